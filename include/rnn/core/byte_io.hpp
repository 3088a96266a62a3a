#pragma once
// The project's one byte format for files and messages: little-endian on every host.
//
// Writing appends to a std::vector<std::uint8_t>:
//   u8, u16, u32, u64      the value's bytes, least significant first
//   i64                    two's complement, as u64
//   f32, f64               the IEEE-754 bit pattern, as u32 / u64 (NaN payloads kept)
//   varint                 unsigned LEB128: 7 bits per byte, least significant group first, the
//                          high bit set on every byte but the last (1 to 10 bytes)
//   string                 u32 byte count, then the bytes (no terminator)
//   f32s                   the floats one after another, as f32
//
// Reading goes through a Reader over a span. It never reads past the span: every read names what
// it reads, and a short input throws rnn::Error "<source> truncated: <what> needs N bytes at
// offset P, K left". A varint with a redundant trailing zero group ("overlong") or a value past
// 64 bits is rejected, so each number has exactly one encoding.
//
// Values are assembled from bytes with shifts, never by copying host-order memory, so the bytes
// are the same on every host (compilers turn the shifts into plain loads on little-endian ones).
#include <bit>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "rnn/core/error.hpp"

namespace rnn::wire {

inline void put_u8(std::vector<std::uint8_t>& out, std::uint8_t v) {
  out.push_back(v);
}

inline void put_u16(std::vector<std::uint8_t>& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v & 0xFFU));
  out.push_back(static_cast<std::uint8_t>(v >> 8U));
}

inline void put_u32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  for (unsigned shift = 0; shift < 32; shift += 8) out.push_back(static_cast<std::uint8_t>((v >> shift) & 0xFFU));
}

inline void put_u64(std::vector<std::uint8_t>& out, std::uint64_t v) {
  for (unsigned shift = 0; shift < 64; shift += 8) out.push_back(static_cast<std::uint8_t>((v >> shift) & 0xFFU));
}

inline void put_i64(std::vector<std::uint8_t>& out, std::int64_t v) {
  put_u64(out, static_cast<std::uint64_t>(v));
}

inline void put_f32(std::vector<std::uint8_t>& out, float v) {
  put_u32(out, std::bit_cast<std::uint32_t>(v));
}

inline void put_f64(std::vector<std::uint8_t>& out, double v) {
  put_u64(out, std::bit_cast<std::uint64_t>(v));
}

inline void put_varint(std::vector<std::uint8_t>& out, std::uint64_t v) {
  while (v >= 0x80U) {
    out.push_back(static_cast<std::uint8_t>((v & 0x7FU) | 0x80U));
    v >>= 7U;
  }
  out.push_back(static_cast<std::uint8_t>(v));
}

// Throws rnn::Error if the string is longer than a u32 can count.
inline void put_string(std::vector<std::uint8_t>& out, std::string_view s) {
  if (s.size() > std::numeric_limits<std::uint32_t>::max()) {
    throw Error("string of " + std::to_string(s.size()) + " bytes is too long to write (limit 2^32 - 1)");
  }
  put_u32(out, static_cast<std::uint32_t>(s.size()));
  out.insert(out.end(), s.begin(), s.end());
}

inline void put_f32s(std::vector<std::uint8_t>& out, std::span<const float> values) {
  out.reserve(out.size() + values.size_bytes());
  for (const float v : values) put_f32(out, v);
}

class Reader {
 public:
  // `source` starts every error message ("message", "model.bin: model file"); it must outlive
  // the reader.
  explicit Reader(std::span<const std::uint8_t> bytes, std::string_view source = "message")
      : bytes_(bytes), source_(source) {}

  [[nodiscard]] std::size_t remaining() const { return bytes_.size() - position_; }
  [[nodiscard]] std::size_t position() const { return position_; }

  // Throws unless n more bytes are available.
  void require(std::size_t n, const char* what) const {
    if (n > remaining()) {
      throw Error(std::string(source_) + " truncated: " + what + " needs " + std::to_string(n) + " bytes at offset " +
                  std::to_string(position_) + ", " + std::to_string(remaining()) + " left");
    }
  }

  std::uint8_t u8(const char* what) {
    require(1, what);
    return bytes_[position_++];
  }

  std::uint16_t u16(const char* what) { return static_cast<std::uint16_t>(little_endian(2, what)); }
  std::uint32_t u32(const char* what) { return static_cast<std::uint32_t>(little_endian(4, what)); }
  std::uint64_t u64(const char* what) { return little_endian(8, what); }
  std::int64_t i64(const char* what) { return static_cast<std::int64_t>(u64(what)); }
  float f32(const char* what) { return std::bit_cast<float>(u32(what)); }
  double f64(const char* what) { return std::bit_cast<double>(u64(what)); }

  std::uint64_t varint(const char* what) {
    std::uint64_t v = 0;
    for (unsigned shift = 0;; shift += 7) {
      const std::uint8_t byte = u8(what);
      // The 10th byte may only hold the top bit of a 64-bit value, and must end the number.
      if (shift == 63 && byte > 1) throw Error(std::string("varint overflows 64 bits: ") + what);
      v |= static_cast<std::uint64_t>(byte & 0x7FU) << shift;
      if ((byte & 0x80U) == 0) {
        if (byte == 0 && shift > 0) throw Error(std::string("overlong varint: ") + what);
        return v;
      }
    }
  }

  // A u32 length, then that many bytes; the length is checked against the input before any
  // allocation.
  std::string string(const char* what) {
    const std::uint32_t n = u32(what);
    const auto bytes = take(n, what);
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
  }

  // Fills `out` with out.size() consecutive f32 values.
  void f32s(std::span<float> out, const char* what) {
    const auto bytes = take(out.size() * sizeof(float), what);
    for (std::size_t i = 0; i < out.size(); ++i) {
      std::uint32_t v = 0;
      for (unsigned b = 0; b < 4; ++b) v |= std::uint32_t{bytes[4 * i + b]} << (8U * b);
      out[i] = std::bit_cast<float>(v);
    }
  }

  // The next n bytes, unread.
  std::span<const std::uint8_t> take(std::size_t n, const char* what) {
    require(n, what);
    auto s = bytes_.subspan(position_, n);
    position_ += n;
    return s;
  }

 private:
  std::uint64_t little_endian(unsigned n, const char* what) {
    require(n, what);
    std::uint64_t v = 0;
    for (unsigned i = 0; i < n; ++i) v |= std::uint64_t{bytes_[position_ + i]} << (8U * i);
    position_ += n;
    return v;
  }

  std::span<const std::uint8_t> bytes_;
  std::string_view source_;
  std::size_t position_ = 0;
};

}  // namespace rnn::wire
