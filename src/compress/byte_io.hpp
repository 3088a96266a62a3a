#pragma once
// Little-endian byte writing and bounds-checked reading for the codec. The reader never reads
// past its span: every failure is an rnn::Error naming what was being read.
#include <bit>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
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
  for (int shift = 0; shift < 32; shift += 8) out.push_back(static_cast<std::uint8_t>((v >> shift) & 0xFFU));
}

inline void put_f32(std::vector<std::uint8_t>& out, float v) {
  put_u32(out, std::bit_cast<std::uint32_t>(v));
}

// LEB128: 7 bits per byte, high bit set on every byte but the last.
inline void put_varint(std::vector<std::uint8_t>& out, std::uint64_t v) {
  while (v >= 0x80U) {
    out.push_back(static_cast<std::uint8_t>((v & 0x7FU) | 0x80U));
    v >>= 7U;
  }
  out.push_back(static_cast<std::uint8_t>(v));
}

class Reader {
 public:
  explicit Reader(std::span<const std::uint8_t> bytes) : bytes_(bytes) {}

  [[nodiscard]] std::size_t remaining() const { return bytes_.size() - position_; }
  [[nodiscard]] std::size_t position() const { return position_; }

  void require(std::size_t n, const char* what) const {
    if (n > remaining())
      throw Error("message truncated: " + std::string(what) + " needs " + std::to_string(n) + " bytes at offset " +
                  std::to_string(position_) + ", " + std::to_string(remaining()) + " left");
  }

  std::uint8_t u8(const char* what) {
    require(1, what);
    return bytes_[position_++];
  }

  std::uint16_t u16(const char* what) {
    require(2, what);
    const auto v = static_cast<std::uint16_t>(bytes_[position_] | (bytes_[position_ + 1] << 8U));
    position_ += 2;
    return v;
  }

  std::uint32_t u32(const char* what) {
    require(4, what);
    std::uint32_t v = 0;
    for (int i = 3; i >= 0; --i) v = (v << 8U) | bytes_[position_ + static_cast<std::size_t>(i)];
    position_ += 4;
    return v;
  }

  float f32(const char* what) { return std::bit_cast<float>(u32(what)); }

  // Rejects overlong encodings and values beyond 64 bits, so one number has one encoding.
  std::uint64_t varint(const char* what) {
    std::uint64_t v = 0;
    for (int shift = 0;; shift += 7) {
      const std::uint8_t byte = u8(what);
      const std::uint64_t bits = byte & 0x7FU;
      // The 10th byte may only hold the top bit of a 64-bit value, and must end the number.
      if (shift == 63 && byte > 1) throw Error(std::string("varint overflows 64 bits: ") + what);
      v |= bits << static_cast<unsigned>(shift);
      if ((byte & 0x80U) == 0) {
        if (byte == 0 && shift > 0) throw Error(std::string("overlong varint: ") + what);
        return v;
      }
    }
  }

  std::span<const std::uint8_t> take(std::size_t n, const char* what) {
    require(n, what);
    auto s = bytes_.subspan(position_, n);
    position_ += n;
    return s;
  }

 private:
  std::span<const std::uint8_t> bytes_;
  std::size_t position_ = 0;
};

// Packs fixed-width codes (1 … 32 bits) little-endian first: code j occupies bits [j·w, (j+1)·w).
class BitWriter {
 public:
  BitWriter(std::vector<std::uint8_t>& out, unsigned width) : out_(out), width_(width) {}
  void put(std::uint32_t code) {
    buffer_ |= static_cast<std::uint64_t>(code) << filled_;
    filled_ += width_;
    while (filled_ >= 8) {
      out_.push_back(static_cast<std::uint8_t>(buffer_ & 0xFFU));
      buffer_ >>= 8U;
      filled_ -= 8;
    }
  }
  void flush() {
    if (filled_ > 0) out_.push_back(static_cast<std::uint8_t>(buffer_ & 0xFFU));
    buffer_ = 0;
    filled_ = 0;
  }

 private:
  std::vector<std::uint8_t>& out_;
  unsigned width_;
  std::uint64_t buffer_ = 0;
  unsigned filled_ = 0;
};

class BitReader {
 public:
  BitReader(std::span<const std::uint8_t> bytes, unsigned width) : bytes_(bytes), width_(width) {}
  // The caller has checked that bytes_ holds every code it will read.
  std::uint32_t get() {
    while (filled_ < width_) {
      buffer_ |= static_cast<std::uint64_t>(bytes_[next_++]) << filled_;
      filled_ += 8;
    }
    const auto code = static_cast<std::uint32_t>(buffer_ & ((std::uint64_t{1} << width_) - 1U));
    buffer_ >>= width_;
    filled_ -= width_;
    return code;
  }
  // After the last code: the unused bits of the last byte must be zero, so that each message has
  // exactly one encoding.
  [[nodiscard]] bool padding_is_zero() const { return buffer_ == 0 && next_ == bytes_.size(); }

 private:
  std::span<const std::uint8_t> bytes_;
  unsigned width_;
  std::uint64_t buffer_ = 0;
  unsigned filled_ = 0;
  std::size_t next_ = 0;
};

[[nodiscard]] inline std::size_t packed_bytes(std::size_t count, unsigned width) {
  return (count * width + 7U) / 8U;
}

}  // namespace rnn::wire
