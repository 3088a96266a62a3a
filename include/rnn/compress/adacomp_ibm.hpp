#pragma once
// `adacomp-ibm`: Adaptive Residual Gradient Compression (Chen, Choi, Brand, Agrawal, Zhang,
// Gopalakrishnan, "AdaComp: Adaptive residual gradient compression for data-parallel distributed
// training", AAAI 2018, Algorithm 1) — a different algorithm from Hardy et al.'s AdaComp. Per
// tensor (the paper's "layer"):
//   G ← G + g                    residue plus the new gradient
//   H ← G + g                    the same, with the newest gradient counted twice
//   split G into bins of L_T entries (L_T = 50 for convolutions, 500 otherwise, the paper's
//   values); per bin gmax = max |G|
//   send the entries with |H| ≥ gmax (a bin whose gmax is 0 sends nothing), each as
//       sign(G_i) · scale,   scale = mean of gmax over all the tensor's bins
//   G_i ← G_i − sent_i           (the residue keeps what the quantised value missed)
// Self-adjusting: a bin whose gradients keep growing sends more. A tensor is a convolution if
// its segment name starts with "conv".
//
// The scale: the selected residues go out as one sign bit each plus one scale per tensor. rnnl
// takes the mean of the bins' gmax, as the public MXNet operator `contrib.ada_comp` (written in
// the paper's notation G, H, gmax, L_T) computes it; this choice is not checked against the
// paper's text. The other plausible reading, mean |G_i| over the sent entries, keeps their l1
// norm. Either way the residue makes the method conservative — what one push over- or
// under-delivers, the next ones correct — the readings differ only in how fast.
#include <vector>

#include "rnn/compress/compressor.hpp"

namespace rnn {

class AdaCompIbmCompressor final : public TensorCompressor {
 public:
  AdaCompIbmCompressor(const ParameterLayout& layout, std::uint32_t conv_bin, std::uint32_t dense_bin);
  [[nodiscard]] std::string_view name() const override { return "adacomp-ibm"; }
  [[nodiscard]] bool keeps_residual() const override { return true; }
  void commit(const Message& delivered) override;
  void save_state(std::vector<std::uint8_t>& out) const override;
  void load_state(wire::Reader& in) override;
  [[nodiscard]] std::span<const float> residue() const { return residue_; }

 protected:
  void compress_tensor(const Segment& segment, std::span<const float> gradient, TensorBlock& out) override;

 private:
  std::uint32_t conv_bin_;
  std::uint32_t dense_bin_;
  std::vector<float> residue_;  // G
};

}  // namespace rnn
