#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "rnn/core/byte_io.hpp"
#include "rnn/core/error.hpp"

namespace rnn {
namespace {

using Bytes = std::vector<std::uint8_t>;

std::string error_of(auto&& read) {
  try {
    read();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// Short inputs are built out of the compiler's sight: with their sizes known, GCC 12 warns about
// the reads that the bounds check prevents (-Warray-bounds).
[[gnu::noinline]] Bytes opaque(Bytes b) {
  return b;
}

}  // namespace

TEST_CASE("byte writer: every type little-endian, byte for byte") {
  Bytes b;
  wire::put_u8(b, 0xAB);
  wire::put_u16(b, 0x1234);
  wire::put_u32(b, 0x89ABCDEF);
  wire::put_u64(b, 0x0102030405060708ULL);
  wire::put_i64(b, -2);
  wire::put_f32(b, 1.0F);
  wire::put_f64(b, -2.0);
  wire::put_varint(b, 300);
  wire::put_string(b, "hi");
  wire::put_f32s(b, std::vector<float>{0.5F, -1.0F});
  const Bytes expected = {0xAB,                                             // u8
                          0x34, 0x12,                                       // u16
                          0xEF, 0xCD, 0xAB, 0x89,                           // u32
                          0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,   // u64
                          0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,   // i64 -2
                          0x00, 0x00, 0x80, 0x3F,                           // f32 1.0
                          0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xC0,   // f64 -2.0
                          0xAC, 0x02,                                       // varint 300
                          0x02, 0x00, 0x00, 0x00, 'h',  'i',                // string
                          0x00, 0x00, 0x00, 0x3F, 0x00, 0x00, 0x80, 0xBF};  // f32s
  CHECK(b == expected);

  wire::Reader r(b);
  CHECK(r.u8("a") == 0xAB);
  CHECK(r.u16("b") == 0x1234);
  CHECK(r.u32("c") == 0x89ABCDEF);
  CHECK(r.u64("d") == 0x0102030405060708ULL);
  CHECK(r.i64("e") == -2);
  CHECK(r.f32("f") == 1.0F);
  CHECK(r.f64("g") == -2.0);
  CHECK(r.varint("h") == 300);
  CHECK(r.string("i") == "hi");
  std::vector<float> floats(2);
  r.f32s(floats, "j");
  CHECK(floats == std::vector<float>{0.5F, -1.0F});
  CHECK(r.remaining() == 0);
  CHECK(r.position() == b.size());
}

TEST_CASE("byte reader: extreme values and NaN payloads survive") {
  Bytes b;
  wire::put_u64(b, std::numeric_limits<std::uint64_t>::max());
  wire::put_i64(b, std::numeric_limits<std::int64_t>::min());
  wire::put_varint(b, std::numeric_limits<std::uint64_t>::max());
  wire::put_varint(b, 0);
  const float nan_with_payload = std::bit_cast<float>(0x7FC00123U);
  wire::put_f32(b, nan_with_payload);
  wire::put_string(b, "");
  wire::Reader r(b);
  CHECK(r.u64("a") == std::numeric_limits<std::uint64_t>::max());
  CHECK(r.i64("b") == std::numeric_limits<std::int64_t>::min());
  CHECK(r.varint("c") == std::numeric_limits<std::uint64_t>::max());
  CHECK(r.varint("d") == 0);
  CHECK(std::bit_cast<std::uint32_t>(r.f32("e")) == 0x7FC00123U);
  CHECK(r.string("f").empty());
  CHECK(r.remaining() == 0);
}

TEST_CASE("byte reader: truncation names what was read, where, and the source") {
  const Bytes b = opaque({1, 2, 3});
  {
    wire::Reader r(b);
    CHECK(error_of([&] { r.u32("block count"); }) ==
          "message truncated: block count needs 4 bytes at offset 0, 3 left");
  }
  {
    wire::Reader r(b, "model.bin: model file");
    r.u8("flag");
    CHECK(error_of([&] { r.u64("parameter count"); }) ==
          "model.bin: model file truncated: parameter count needs 8 bytes at offset 1, 2 left");
  }
  {
    // A string's length is checked against the input before anything is allocated.
    const Bytes huge_string = opaque({0xFF, 0xFF, 0xFF, 0xFF, 'x'});
    wire::Reader r(huge_string);
    CHECK(error_of([&] { r.string("name"); }).find("name needs 4294967295 bytes") != std::string::npos);
  }
  {
    wire::Reader r(b);
    std::vector<float> out(1);
    CHECK(error_of([&] { r.f32s(out, "values"); }).find("values needs 4 bytes") != std::string::npos);
    CHECK(r.position() == 0);
  }
  for (const auto& name : {"u8", "u16", "f64", "varint", "take"}) {
    wire::Reader r(std::span<const std::uint8_t>{});
    const std::string what = name;
    CHECK_THROWS_AS(([&] {
                      if (what == "u8") r.u8("x");
                      if (what == "u16") r.u16("x");
                      if (what == "f64") r.f64("x");
                      if (what == "varint") r.varint("x");
                      if (what == "take") r.take(1, "x");
                    }()),
                    Error);
  }
}

TEST_CASE("byte reader: a varint has one encoding and fits 64 bits") {
  const auto read = [](const Bytes& b) {
    wire::Reader r(b);
    return r.varint("n");
  };
  CHECK(read({0x7F}) == 127);
  CHECK(read({0x80, 0x01}) == 128);
  CHECK(error_of([&] { read({0x81, 0x00}); }) == "overlong varint: n");
  CHECK(error_of([&] { read({0x80, 0x80, 0x00}); }) == "overlong varint: n");
  // 2^64 - 1 is nine bytes of 0xFF and a final 0x01; anything larger in the 10th byte overflows.
  CHECK(error_of([&] {
          read({0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02});
        }) == "varint overflows 64 bits: n");
  CHECK(error_of([&] {
          read({0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x81, 0x00});
        }) == "varint overflows 64 bits: n");
  CHECK(error_of([&] { read({0x80, 0x80}); }).find("truncated") != std::string::npos);
}

}  // namespace rnn
