#pragma once
// `terngrad`: stochastic ternarisation (Wen, Xu, Yan, Wu, Wang, Chen, Li, "TernGrad: Ternary
// gradients to reduce communication in distributed deep learning", NeurIPS 2017). Per tensor:
//   s = max |g_i|;  b_i ~ Bernoulli(|g_i| / s);  sent_i = s · sign(g_i) · b_i
// Unbiased: E[sent] = g. Values lie on a 3-level grid (value encoding `levels`: 2 bits each).
// The paper's optional gradient clipping at 2.5 σ is not applied.
#include "rnn/compress/compressor.hpp"
#include "rnn/core/rng.hpp"

namespace rnn {

class TernGradCompressor final : public TensorCompressor {
 public:
  TernGradCompressor(const ParameterLayout& layout, std::uint64_t seed, std::uint64_t stream);
  [[nodiscard]] std::string_view name() const override { return "terngrad"; }

 protected:
  void compress_tensor(const Segment& segment, std::span<const float> gradient, TensorBlock& out) override;

 private:
  Rng rng_;
};

}  // namespace rnn
