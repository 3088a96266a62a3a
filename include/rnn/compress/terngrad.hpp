#pragma once
// `terngrad`: stochastic ternarisation (Wen, Xu, Yan, Wu, Wang, Chen, Li, "TernGrad: Ternary
// gradients to reduce communication in distributed deep learning", NeurIPS 2017). Per tensor:
//   σ = standard deviation of g (over the tensor's n entries, divided by n)
//   c_i = clamp(g_i, −c·σ, c·σ)          gradient clipping, c = 2.5 (skipped when c = 0, and for
//                                        a tensor of equal entries, σ = 0: nothing to cut there)
//   s = max |c_i|;  b_i ~ Bernoulli(|c_i| / s);  sent_i = s · sign(c_i) · b_i
// Clipping is on by default with the authors' c = 2.5 (the paper's Section 3.3, "gradient
// clipping"; GRACE's terngrad.py does the same): it shrinks s, and so the variance, at the cost
// of a small bias on the clipped entries. Unbiased for the clipped gradient, E[sent] = c(g), and
// for g itself when c = 0. Values lie on a 3-level grid (value encoding `levels`: 2 bits each
// plus one scale per tensor).
#include "rnn/compress/compressor.hpp"
#include "rnn/core/rng.hpp"

namespace rnn {

inline constexpr double terngrad_default_clip = 2.5;

class TernGradCompressor final : public TensorCompressor {
 public:
  // clip: c in standard deviations, 0 = no clipping.
  TernGradCompressor(const ParameterLayout& layout, double clip, std::uint64_t seed, std::uint64_t stream);
  [[nodiscard]] std::string_view name() const override { return "terngrad"; }
  void save_state(std::vector<std::uint8_t>& out) const override;
  void load_state(wire::Reader& in) override;

 protected:
  void compress_tensor(const Segment& segment, std::span<const float> gradient, TensorBlock& out) override;

 private:
  double clip_;
  Rng rng_;
};

// The clipping bound c·σ of `gradient`: σ its standard deviation (population, around its mean).
[[nodiscard]] double terngrad_clip_bound(std::span<const float> gradient, double clip);

}  // namespace rnn
