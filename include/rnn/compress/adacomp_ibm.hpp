#pragma once
// `adacomp-ibm`: Adaptive Residual Gradient Compression (Chen, Choi, Brand, Agrawal, Zhang,
// Gopalakrishnan, "AdaComp: Adaptive residual gradient compression for data-parallel distributed
// training", AAAI 2018) — a different algorithm from Hardy et al.'s AdaComp. Per tensor:
//   G ← G + g                    residue plus the new gradient
//   H ← G + g                    the same, with the newest gradient counted twice
//   split into bins of L entries (L = 50 for convolutions, 500 otherwise); per bin gmax = max |G|
//   send the entries with |H| ≥ gmax (and gmax > 0), each as sign(G_i) · scale,
//       scale = mean |G_i| over the tensor's sent entries
//   G_i ← G_i − sent_i           (the residue keeps what the quantised value missed)
// Self-adjusting: a bin whose gradients keep growing sends more. A tensor is a convolution if
// its segment name starts with "conv".
#include <vector>

#include "rnn/compress/compressor.hpp"

namespace rnn {

class AdaCompIbmCompressor final : public TensorCompressor {
 public:
  AdaCompIbmCompressor(const ParameterLayout& layout, std::uint32_t conv_bin, std::uint32_t dense_bin);
  [[nodiscard]] std::string_view name() const override { return "adacomp-ibm"; }
  void commit(const Message& delivered) override;
  [[nodiscard]] std::span<const float> residue() const { return residue_; }

 protected:
  void compress_tensor(const Segment& segment, std::span<const float> gradient, TensorBlock& out) override;

 private:
  std::uint32_t conv_bin_;
  std::uint32_t dense_bin_;
  std::vector<float> residue_;  // G
};

}  // namespace rnn
