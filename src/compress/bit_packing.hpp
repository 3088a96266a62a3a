#pragma once
// Fixed-width codes (1 … 32 bits) packed little-endian first for the codec: code j occupies bits
// [j·w, (j+1)·w) of the byte run, and the unused high bits of the last byte are zero.
#include <cstdint>
#include <span>
#include <vector>

namespace rnn::wire {

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
