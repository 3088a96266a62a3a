#pragma once
// Per-tensor top-k, as AdaComp's released code runs it (Hardy, Le Merrer, Sericola, "Distributed
// deep learning on edge-devices: feasibility via adaptive compression", IEEE NCA 2017; github
// Hardy-c/AdaComp): for each tensor of n entries, send the k = max(1, floor(c·n)) entries of
// largest |g| with their values; what is not sent is dropped (no residual).
//
// The same selection serves two methods that differ only at the server:
//   `topk`     Comp-ASGD, applied with a plain step;
//   `adacomp`  applied with per-parameter staleness, α / max(1, τ_i) (see step_policy.hpp).
#include <string>
#include <vector>

#include "rnn/compress/compressor.hpp"

namespace rnn {

class TopKCompressor final : public TensorCompressor {
 public:
  TopKCompressor(const ParameterLayout& layout, double ratio, std::string name = "topk");
  [[nodiscard]] std::string_view name() const override { return name_; }

 protected:
  void compress_tensor(const Segment& segment, std::span<const float> gradient, TensorBlock& out) override;

 private:
  double ratio_;
  std::string name_;
  std::vector<float> scratch_;
};

}  // namespace rnn
