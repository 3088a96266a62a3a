#pragma once
// `qsgd`: stochastic quantisation to s levels (Alistarh, Grubic, Li, Tomioka, Vojnovic, "QSGD:
// Communication-efficient SGD via gradient quantization and encoding", NeurIPS 2017). Per tensor:
//   ‖g‖₂ = norm;  l_i = floor(|g_i| / norm · s + u_i), u_i ~ U[0, 1);
//   sent_i = sign(g_i) · norm · l_i / s
// Unbiased: E[sent] = g. Every entry is sent (dense); on the wire, value encoding `levels` takes
// ceil(log2(2s + 1)) bits per entry plus the norm.
#include "rnn/compress/compressor.hpp"
#include "rnn/core/rng.hpp"

namespace rnn {

class QsgdCompressor final : public TensorCompressor {
 public:
  QsgdCompressor(const ParameterLayout& layout, std::uint32_t levels, std::uint64_t seed, std::uint64_t stream);
  [[nodiscard]] std::string_view name() const override { return "qsgd"; }

 protected:
  void compress_tensor(const Segment& segment, std::span<const float> gradient, TensorBlock& out) override;

 private:
  std::uint32_t levels_;
  Rng rng_;
};

}  // namespace rnn
