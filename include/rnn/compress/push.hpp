#pragma once
// A worker's side of one push, in the only order that keeps error feedback exact:
//   compress → round to the wire encoding → encode → commit what was delivered.
// The byte count it reports is the size of the encoded message, which the server decodes.
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "rnn/compress/codec.hpp"
#include "rnn/compress/compressor.hpp"
#include "rnn/compress/registry.hpp"  // the compressors a PushEncoder is given are made there

namespace rnn {

class PushEncoder {
 public:
  PushEncoder(const ParameterLayout& layout, std::unique_ptr<Compressor> compressor, CodecOptions codec);

  // Compresses `gradient` and returns the encoded push (valid until the next call).
  std::span<const std::uint8_t> encode(std::span<const float> gradient, std::uint64_t base_version,
                                       std::uint32_t worker);

  // The message as the server will decode it (after rounding).
  [[nodiscard]] const Message& message() const { return message_; }
  [[nodiscard]] const Compressor& compressor() const { return *compressor_; }
  [[nodiscard]] const CodecOptions& codec() const { return codec_; }
  // Checkpoints: the compressor's state (Compressor::save_state / load_state).
  void save_state(std::vector<std::uint8_t>& out) const { compressor_->save_state(out); }
  void load_state(wire::Reader& in) { compressor_->load_state(in); }

 private:
  const ParameterLayout& layout_;
  std::unique_ptr<Compressor> compressor_;
  CodecOptions codec_;
  Message message_;
  std::vector<std::uint8_t> bytes_;
};

}  // namespace rnn
