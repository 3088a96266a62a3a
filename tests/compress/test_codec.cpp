#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <vector>

#include "rnn/compress/codec.hpp"
#include "rnn/compress/registry.hpp"
#include "rnn/core/error.hpp"
#include "test_support.hpp"

namespace rnn {
namespace {

const std::vector<CodecOptions>& all_encodings() {
  static const std::vector<CodecOptions> encodings = [] {
    std::vector<CodecOptions> all;
    for (auto index : {IndexEncoding::u32, IndexEncoding::delta_varint})
      for (auto value : {ValueEncoding::f32, ValueEncoding::f16, ValueEncoding::sign_scale, ValueEncoding::levels})
        all.push_back({index, value, 127});
    return all;
  }();
  return encodings;
}

// Entries, values and density: what the server applies. (The grid fields only help the codec.)
// Empty sparse blocks are not sent, so they are skipped on both sides.
std::vector<const TensorBlock*> sent_blocks(const Message& m) {
  std::vector<const TensorBlock*> blocks;
  for (const auto& b : m.blocks)
    if (b.dense || b.count() > 0) blocks.push_back(&b);
  return blocks;
}

void require_same_entries(const Message& a, const Message& b) {
  const auto left = sent_blocks(a);
  const auto right = sent_blocks(b);
  REQUIRE(left.size() == right.size());
  for (std::size_t j = 0; j < left.size(); ++j) {
    REQUIRE(left[j]->segment == right[j]->segment);
    REQUIRE(left[j]->dense == right[j]->dense);
    if (!left[j]->dense) REQUIRE(left[j]->indices == right[j]->indices);
    REQUIRE(left[j]->values == right[j]->values);
  }
  REQUIRE(a.base_version == b.base_version);
  REQUIRE(a.worker == b.worker);
}

Message sample_message(const ParameterLayout& layout, const std::string& compressor, std::uint64_t seed) {
  CompressorOptions options;
  options.name = compressor;
  options.ratio = 0.05;
  options.threshold = 0.012;
  options.warmup_pushes = 4;
  auto c = make_compressor(options, layout);
  Message m;
  for (int push = 0; push < 3; ++push) {  // a few pushes, so residual memories hold something
    c->compress(test::random_gradient(layout.size(), seed + static_cast<std::uint64_t>(push)), m);
    c->commit(m);
  }
  m.base_version = 123456789012ULL;
  m.worker = 77;
  return m;
}

// Equal bit for bit, so that NaNs compare too.
bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](float x, float y) {
    return std::bit_cast<std::uint32_t>(x) == std::bit_cast<std::uint32_t>(y);
  });
}

}  // namespace

TEST_CASE("every compressor's message survives every encoding, exactly as rounded") {
  const auto layout = test::small_layout();
  std::vector<std::uint8_t> bytes;
  for (const auto& name : compressor_names()) {
    const Message original = sample_message(layout, name, 11);
    for (const auto& codec : all_encodings()) {
      CAPTURE(name);
      CAPTURE(to_string(codec.indices));
      CAPTURE(to_string(codec.values));
      const bool on_sign_grid = name == "signsgd-ef" || name == "adacomp-ibm";
      const bool on_level_grid = name == "qsgd" || name == "terngrad";
      if (on_level_grid && codec.values == ValueEncoding::sign_scale) {
        // One bit per value cannot carry the quantisers' zeros: refused, not silently biased.
        CHECK_THROWS_WITH_AS(encode(original, layout, codec, bytes), doctest::Contains("zeros"), Error);
        continue;
      }
      Message rounded = original;
      round_to_encoding(rounded, codec);
      Message twice = rounded;
      round_to_encoding(twice, codec);
      require_same_entries(rounded, twice);  // rounding is idempotent

      encode(original, layout, codec, bytes);
      Message decoded;
      const CodecOptions seen = decode(bytes, layout, decoded);
      CHECK(seen.indices == codec.indices);
      CHECK(seen.values == codec.values);
      require_same_entries(rounded, decoded);

      // Lossless where the encoding can carry the compressor's values.
      const bool exact = codec.values == ValueEncoding::f32 ||
                         (codec.values == ValueEncoding::sign_scale && on_sign_grid) ||
                         (codec.values == ValueEncoding::levels && (on_sign_grid || on_level_grid));
      if (exact) require_same_entries(original, decoded);
    }
  }
}

TEST_CASE("lossy encodings stay within their stated error") {
  const auto layout = test::small_layout();
  const Message original = sample_message(layout, "topk", 5);
  SUBCASE("f16: relative error at most 2^-11") {
    Message m = original;
    round_to_encoding(m, {IndexEncoding::u32, ValueEncoding::f16, 127});
    for (std::size_t b = 0; b < m.blocks.size(); ++b)
      for (std::size_t j = 0; j < m.blocks[b].count(); ++j) {
        const float x = original.blocks[b].values[j];
        CHECK(std::fabs(m.blocks[b].values[j] - x) <= std::ldexp(std::fabs(x), -11) + std::ldexp(1.0F, -25));
      }
  }
  SUBCASE("levels: error at most half a level of the block's max |v|") {
    Message m = original;
    round_to_encoding(m, {IndexEncoding::u32, ValueEncoding::levels, 15});
    for (std::size_t b = 0; b < m.blocks.size(); ++b) {
      float max_abs = 0.0F;
      for (const float v : original.blocks[b].values) max_abs = std::max(max_abs, std::fabs(v));
      for (std::size_t j = 0; j < m.blocks[b].count(); ++j)
        CHECK(std::fabs(m.blocks[b].values[j] - original.blocks[b].values[j]) <= max_abs / 30.0F * 1.0001F);
    }
  }
  SUBCASE("sign: keeps each block's signs and l1 norm") {
    Message m = original;
    round_to_encoding(m, {IndexEncoding::u32, ValueEncoding::sign_scale, 127});
    for (std::size_t b = 0; b < m.blocks.size(); ++b) {
      double l1_before = 0.0;
      double l1_after = 0.0;
      for (std::size_t j = 0; j < m.blocks[b].count(); ++j) {
        CHECK(std::signbit(m.blocks[b].values[j]) == std::signbit(original.blocks[b].values[j]));
        l1_before += std::fabs(original.blocks[b].values[j]);
        l1_after += std::fabs(m.blocks[b].values[j]);
      }
      CHECK(l1_after == doctest::Approx(l1_before).epsilon(1e-5));
    }
  }
}

TEST_CASE("encoded sizes follow the format, and delta + varint beats u32 on sparse pushes") {
  const auto layout = test::small_layout();
  const Message m = sample_message(layout, "topk", 3);
  std::vector<std::uint8_t> u32_bytes;
  std::vector<std::uint8_t> varint_bytes;
  encode(m, layout, {IndexEncoding::u32, ValueEncoding::f32, 127}, u32_bytes);
  encode(m, layout, {IndexEncoding::delta_varint, ValueEncoding::f32, 127}, varint_bytes);
  // header: version, encodings, worker 77 (1), base version (6 bytes of varint), block count (1)
  std::size_t expected = 2 + 1 + 6 + 1;
  for (const auto& b : m.blocks) expected += 1 + 1 + (b.count() < 128 ? 1 : 2) + 8 * b.count();
  CHECK(u32_bytes.size() == expected);
  CHECK(varint_bytes.size() < u32_bytes.size());

  Message dense = sample_message(layout, "none", 3);
  std::vector<std::uint8_t> dense_bytes;
  encode(dense, layout, {IndexEncoding::u32, ValueEncoding::f32, 127}, dense_bytes);
  CHECK(dense_bytes.size() == 2 + 1 + 6 + 1 + layout.segments().size() * 2 + 4 * layout.size());
}

TEST_CASE("the encoder refuses messages that do not fit the layout") {
  const auto layout = test::small_layout();
  std::vector<std::uint8_t> bytes;
  const CodecOptions codec;
  Message m;
  m.blocks.resize(1);
  m.blocks[0].segment = 9;
  m.blocks[0].indices = {0};
  m.blocks[0].values = {1.0F};
  CHECK_THROWS_AS(encode(m, layout, codec, bytes), Error);  // no such segment
  m.blocks[0].segment = 1;
  m.blocks[0].indices = {1};
  CHECK_THROWS_AS(encode(m, layout, codec, bytes), Error);  // conv1.bias has one entry
  m.blocks[0].segment = 0;
  m.blocks[0].indices = {3, 3};
  m.blocks[0].values = {1.0F, 2.0F};
  CHECK_THROWS_AS(encode(m, layout, codec, bytes), Error);  // repeated index
  m.blocks[0].indices = {3, 4};
  m.blocks[0].values = {1.0F, std::nanf("")};
  CHECK_THROWS_AS(encode(m, layout, codec, bytes), Error);  // NaN
  m.blocks[0].values = {1.0F};
  CHECK_THROWS_AS(encode(m, layout, codec, bytes), Error);  // counts disagree
}

TEST_CASE("the decoder rejects malformed input with an error") {
  const auto layout = test::small_layout();
  Message decoded;
  for (const auto& codec : all_encodings()) {
    CAPTURE(to_string(codec.indices));
    CAPTURE(to_string(codec.values));
    std::vector<std::uint8_t> bytes;
    encode(sample_message(layout, codec.values == ValueEncoding::levels ? "qsgd" : "topk", 8), layout, codec, bytes);
    REQUIRE_NOTHROW(decode(bytes, layout, decoded));
    for (std::size_t cut = 0; cut < bytes.size(); ++cut)  // every truncation
      REQUIRE_THROWS_AS(decode(std::span(bytes).first(cut), layout, decoded), Error);
    auto longer = bytes;
    longer.push_back(0);
    CHECK_THROWS_WITH_AS(decode(longer, layout, decoded), doctest::Contains("trailing"), Error);
    for (const int version : {0, 1, 3}) {  // version 1 had one scale per block: not this layout
      auto wrong_version = bytes;
      wrong_version[0] = static_cast<std::uint8_t>(version);
      CHECK_THROWS_WITH_AS(decode(wrong_version, layout, decoded), doctest::Contains("version"), Error);
    }
    auto wrong_encoding = bytes;
    wrong_encoding[1] = static_cast<std::uint8_t>((bytes[1] & 0xF0U) | 0x02U);  // index encoding 2
    CHECK_THROWS_WITH_AS(decode(wrong_encoding, layout, decoded), doctest::Contains("index encoding"), Error);
    wrong_encoding[1] = static_cast<std::uint8_t>((bytes[1] & 0x0FU) | 0x40U);  // value encoding 4
    CHECK_THROWS_WITH_AS(decode(wrong_encoding, layout, decoded), doctest::Contains("value encoding"), Error);
  }
}

TEST_CASE("the decoder rejects hand-made bad blocks") {
  const auto layout = test::small_layout();  // conv1.weight has 72 entries
  Message decoded;
  // version 2, u32/f32, worker 0, base 0, 1 block, segment 0, sparse
  const std::vector<std::uint8_t> head{2, 0x00, 0, 0, 1, 0, 0};
  auto with = [&](std::vector<std::uint8_t> tail) {
    auto bytes = head;
    bytes.insert(bytes.end(), tail.begin(), tail.end());
    return bytes;
  };
  CHECK_NOTHROW(decode(with({1, 5, 0, 0, 0, 0, 0, 0x80, 0x3F}), layout, decoded));
  CHECK(decoded.blocks.at(0).indices == std::vector<std::uint32_t>{5});
  CHECK_THROWS_WITH_AS(decode(with({1, 72, 0, 0, 0, 0, 0, 0x80, 0x3F}), layout, decoded),
                       doctest::Contains("out of range"), Error);
  CHECK_THROWS_AS(decode(with({73}), layout, decoded), Error);          // more entries than the tensor
  CHECK_THROWS_AS(decode(with({0}), layout, decoded), Error);           // an empty block is never sent
  CHECK_THROWS_AS(decode(with({0x81, 0x00}), layout, decoded), Error);  // overlong varint
  // Varints in the header, where no layout bound applies: 2^64 − 1 is the largest base version;
  // one more bit, or a continuation past the 10th byte, is an error (not a shift beyond 64 bits).
  const std::vector<std::uint8_t> largest{2, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01, 0};
  CHECK_NOTHROW(decode(largest, layout, decoded));
  CHECK(decoded.base_version == UINT64_MAX);
  auto too_big = largest;
  too_big[12] = 0x02;
  CHECK_THROWS_WITH_AS(decode(too_big, layout, decoded), doctest::Contains("64 bits"), Error);
  auto too_long = largest;
  too_long[12] = 0x81;
  too_long.insert(too_long.begin() + 13, 0x00);
  CHECK_THROWS_AS(decode(too_long, layout, decoded), Error);
  CHECK_THROWS_AS(decode(with({2, 5, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0x80, 0x3F, 0, 0, 0x80, 0x3F}), layout, decoded),
                  Error);                                                                    // repeated index
  CHECK_THROWS_AS(decode(with({1, 5, 0, 0, 0, 0, 0, 0x80, 0x7F}), layout, decoded), Error);  // infinity
  CHECK_THROWS_AS(decode(with({1, 5, 0, 0, 0, 0, 0, 0xC0, 0x7F}), layout, decoded), Error);  // NaN
  auto bad_segment = with({1, 5, 0, 0, 0, 0, 0, 0x80, 0x3F});
  bad_segment[5] = 5;  // the layout has 5 tensors: 0 … 4
  CHECK_THROWS_AS(decode(bad_segment, layout, decoded), Error);
  auto too_many_blocks = with({1, 5, 0, 0, 0, 0, 0, 0x80, 0x3F});
  too_many_blocks[4] = 6;
  CHECK_THROWS_AS(decode(too_many_blocks, layout, decoded), Error);
  auto bad_flags = with({1, 5, 0, 0, 0, 0, 0, 0x80, 0x3F});
  bad_flags[6] = 4;
  CHECK_THROWS_AS(decode(bad_flags, layout, decoded), Error);
}

TEST_CASE("the decoder keeps values finite and each message has one encoding") {
  const auto layout = test::small_layout();
  Message decoded;
  // levels encoding, segment 1 (one entry), dense: s = 2, bucket 0, scale 3e38, code 4 (level +2).
  const std::vector<std::uint8_t> huge{2, 0x30, 0, 0, 1, 1, 1, 2, 0, 0xE6, 0xB1, 0x61, 0x7F, 4};
  REQUIRE_NOTHROW(decode(huge, layout, decoded));
  CHECK(std::isfinite(decoded.blocks[1].values[0]));
  CHECK(decoded.blocks[1].values[0] == doctest::Approx(3e38).epsilon(1e-6));
  auto padded = huge;
  padded.back() = 4 | 0x40;  // a bit set beyond the one 3-bit code
  CHECK_THROWS_WITH_AS(decode(padded, layout, decoded), doctest::Contains("padding"), Error);
  // sign encoding with a negative-zero scale would flip every sign on re-encoding
  const std::vector<std::uint8_t> negative_zero{2, 0x20, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0x80, 0};
  CHECK_THROWS_WITH_AS(decode(negative_zero, layout, decoded), doctest::Contains("scale"), Error);
}

TEST_CASE("a grid block carries one scale per bucket, and the decoder holds the bucket layout to it") {
  const auto layout = test::small_layout();  // conv1.weight: 72 entries
  CompressorOptions options;
  options.name = "qsgd";
  options.bucket = 16;  // 72 = 4·16 + 8: five norms
  auto c = make_compressor(options, layout);
  Message m;
  c->compress(test::random_gradient(layout.size(), 21), m);
  REQUIRE(m.blocks[0].bucket == 16);
  REQUIRE(m.blocks[0].scales.size() == 5);
  REQUIRE(m.blocks[1].bucket == 0);  // the one-entry bias: one bucket
  std::vector<std::uint8_t> bytes;
  encode(m, layout, {IndexEncoding::u32, ValueEncoding::levels, 127}, bytes);
  Message decoded;
  decode(bytes, layout, decoded);
  require_same_entries(m, decoded);
  for (std::size_t b = 0; b < m.blocks.size(); ++b) {
    CHECK(decoded.blocks[b].scales == m.blocks[b].scales);
    CHECK(decoded.blocks[b].bucket == m.blocks[b].bucket);
  }
  // Sizes: header (version, encodings, worker 0, base 0, block count), then per dense block the
  // segment, flags, s and bucket (one byte each here), 4 bytes per norm and 4 bits per entry.
  std::size_t expected = 5;
  for (const auto& b : m.blocks) expected += 1 + 1 + 1 + 1 + 4 * b.scales.size() + (4 * b.count() + 7) / 8;
  CHECK(bytes.size() == expected);

  // Hand-made: levels encoding, segment 0 dense, s = 1, then the bucket and its scales.
  const std::vector<std::uint8_t> head{2, 0x30, 0, 0, 1, 0, 1, 1};
  auto with = [&](std::uint8_t bucket, std::size_t scales) {
    auto out = head;
    out.push_back(bucket);
    for (std::size_t k = 0; k < scales; ++k) out.insert(out.end(), {0, 0, 0x80, 0x3F});  // 1.0
    out.resize(out.size() + 18, 0x55);  // 72 codes of 2 bits, all level 0 (code 1)
    return out;
  };
  CHECK_NOTHROW(decode(with(36, 2), layout, decoded));
  CHECK(decoded.blocks[0].bucket == 36);
  CHECK(decoded.blocks[0].scales.size() == 2);
  CHECK_NOTHROW(decode(with(0, 1), layout, decoded));
  CHECK_THROWS_WITH_AS(decode(with(72, 1), layout, decoded), doctest::Contains("bucket"), Error);  // one bucket: 0
  CHECK_THROWS_WITH_AS(decode(with(100, 1), layout, decoded), doctest::Contains("bucket"), Error);
  CHECK_THROWS_AS(decode(with(36, 1), layout, decoded), Error);  // a norm missing
  CHECK_THROWS_AS(decode(with(36, 3), layout, decoded), Error);  // a norm too many
  // A block whose bucket spans it all goes out as one bucket (0), so each grid has one encoding.
  Message whole = m;
  whole.blocks[0].bucket = 72;
  whole.blocks[0].scales.assign(1, 1.0F);
  encode(whole, layout, {IndexEncoding::u32, ValueEncoding::levels, 127}, bytes);
  decode(bytes, layout, decoded);
  CHECK(decoded.blocks[0].bucket == 0);
}

TEST_CASE("round_to_encoding refuses blocks it cannot round, and leaves the message as it was") {
  const auto layout = test::small_layout();
  CompressorOptions options;
  options.name = "qsgd";
  auto c = make_compressor(options, layout);
  Message good;
  c->compress(test::random_gradient(layout.size(), 22), good);
  const CodecOptions levels{IndexEncoding::u32, ValueEncoding::levels, 127};
  struct Case {
    std::string what;
    void (*spoil)(TensorBlock&);
  };
  const std::vector<Case> cases{
      {"0 levels", [](TensorBlock& b) { b.levels = 0; }},                  // would divide by zero: NaN values
      {"2^32 - 1 levels", [](TensorBlock& b) { b.levels = UINT32_MAX; }},  // beyond an int32 level
      {"32768 levels", [](TensorBlock& b) { b.levels = max_levels + 1; }},
      {"a NaN scale", [](TensorBlock& b) { b.scales[0] = std::nanf(""); }},
      {"an infinite scale", [](TensorBlock& b) { b.scales[0] = std::numeric_limits<float>::infinity(); }},
      {"a negative scale", [](TensorBlock& b) { b.scales[0] = -1.0F; }},
      {"no scale", [](TensorBlock& b) { b.scales.clear(); }},
      {"a scale too many", [](TensorBlock& b) { b.scales.push_back(1.0F); }},
      {"an unknown grid", [](TensorBlock& b) { b.grid = static_cast<ValueGrid>(7); }},
      {"a NaN value", [](TensorBlock& b) { b.values[0] = std::nanf(""); }},
  };
  for (const auto& codec : all_encodings()) {
    for (const auto& bad : cases) {
      CAPTURE(bad.what);
      CAPTURE(to_string(codec.values));
      Message m = good;
      bad.spoil(m.blocks[2]);
      const Message before = m;
      CHECK_THROWS_AS(round_to_encoding(m, codec), Error);
      for (std::size_t b = 0; b < m.blocks.size(); ++b) {  // nothing rounded, not even the good blocks
        CHECK(m.blocks[b].grid == before.blocks[b].grid);
        CHECK(same_bits(m.blocks[b].scales, before.blocks[b].scales));
        CHECK(same_bits(m.blocks[b].values, before.blocks[b].values));
      }
      std::vector<std::uint8_t> bytes;
      CHECK_THROWS_AS(encode(m, layout, codec, bytes), Error);
    }
  }
  Message m = good;
  CHECK_NOTHROW(round_to_encoding(m, levels));
}

TEST_CASE("decoded messages hold one block per tensor, so buffers are reused push after push") {
  const auto layout = test::small_layout();
  std::vector<std::uint8_t> bytes;
  Message decoded;
  CompressorOptions options;
  options.name = "threshold";
  options.threshold = 0.02;
  auto c = make_compressor(options, layout);
  Message m;
  for (int push = 0; push < 5; ++push) {
    c->compress(test::random_gradient(layout.size(), 40 + static_cast<std::uint64_t>(push)), m);
    encode(m, layout, {}, bytes);
    decode(bytes, layout, decoded);
    REQUIRE(decoded.blocks.size() == layout.segments().size());
    for (std::size_t s = 0; s < decoded.blocks.size(); ++s) CHECK(decoded.blocks[s].segment == s);
    require_same_entries(m, decoded);
  }
}

TEST_CASE("random corruption never crashes the decoder; what it accepts is a valid message") {
  const auto layout = test::small_layout();
  Rng rng(17);
  Message decoded;
  std::vector<std::uint8_t> reencoded;
  int accepted = 0;
  for (const auto& codec : all_encodings()) {
    std::vector<std::uint8_t> bytes;
    encode(sample_message(layout, "topk", 2), layout, codec, bytes);
    for (int trial = 0; trial < 300; ++trial) {
      auto corrupt = bytes;
      const auto flips = 1 + rng.below(4);
      for (std::uint64_t f = 0; f < flips; ++f)
        corrupt[rng.below(corrupt.size())] ^= static_cast<std::uint8_t>(1U << rng.below(8));
      try {
        const CodecOptions seen = decode(corrupt, layout, decoded);
        ++accepted;
        encode(decoded, layout, seen, reencoded);  // validates every block against the layout
      } catch (const Error&) {
      }
    }
  }
  CHECK(accepted > 0);  // flips inside values decode fine; the point is that none crashed
}

}  // namespace rnn

namespace rnn {

TEST_CASE("peek_worker reads the claimed sender from the header alone") {
  const auto layout = test::small_layout();
  const Message m = sample_message(layout, "topk", 3);
  std::vector<std::uint8_t> bytes;
  encode(m, layout, {IndexEncoding::u32, ValueEncoding::f32, 127}, bytes);
  CHECK(peek_worker(bytes) == m.worker);
  CHECK_THROWS_AS((void)peek_worker(std::span<const std::uint8_t>(bytes).first(2)), Error);
  bytes[0] = codec_version + 1;
  CHECK_THROWS_AS((void)peek_worker(bytes), Error);
  const std::vector<std::uint8_t> huge_id{codec_version, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F};  // 2^35 − 1
  CHECK_THROWS_AS((void)peek_worker(huge_id), Error);
}

}  // namespace rnn
