#pragma once
// `signsgd-ef`: scaled sign compression with error feedback (EF-SignSGD; Karimireddy, Rebjock,
// Stich, Jaggi, "Error feedback fixes SignSGD and other gradient compression schemes",
// ICML 2019). Per tensor of n entries:
//   p = g + e;   sent = (‖p‖₁ / n) · sign(p);   e ← p − sent
// Built as ScaledSignCompressor inside the generic ResidualMemory (error_feedback.hpp). One bit
// per entry plus one scale per tensor on the wire (value encoding `sign`). The paper compresses
// p = γ g + e with the step size γ inside; here the server applies the step, so the residual is
// in gradient units, which is the same algorithm while the server's step size is constant.
#include "rnn/compress/compressor.hpp"

namespace rnn {

// The memoryless quantiser: sent = (‖g‖₁ / n) · sign(g), a dense block on the sign grid.
class ScaledSignCompressor final : public TensorCompressor {
 public:
  using TensorCompressor::TensorCompressor;
  [[nodiscard]] std::string_view name() const override { return "scaled-sign"; }

 protected:
  void compress_tensor(const Segment& segment, std::span<const float> gradient, TensorBlock& out) override;
};

}  // namespace rnn
