#pragma once
// `dgc`: Deep Gradient Compression (Lin, Han, Mao, Wang, Dally, ICLR 2018). Per tensor:
//   (local gradient clipping: g scaled so that ‖g‖₂ ≤ clip, when clip > 0)
//   u ← m·u + g            momentum correction: accumulate velocity, not the raw gradient
//   v ← v + u              local accumulation (the residual)
//   send the top-k of |v|, k = max(1, floor(ratio·n))
//   v_i ← v_i − sent_i, u_i ← 0 on sent entries   (momentum factor masking)
// Warm-up: over the first W pushes the ratio falls geometrically in four stages, 25 %, 6.25 %,
// 1.5625 %, 0.390625 % (the paper's 75 % … 99.6 % sparsity per epoch), then stays at c. With
// momentum correction the server applies plain steps (its own momentum would count twice).
#include <vector>

#include "rnn/compress/compressor.hpp"

namespace rnn {

class DgcCompressor final : public TensorCompressor {
 public:
  DgcCompressor(const ParameterLayout& layout, double ratio, double momentum, std::uint64_t warmup_pushes,
                double clip_norm);
  [[nodiscard]] std::string_view name() const override { return "dgc"; }
  [[nodiscard]] bool keeps_residual() const override { return true; }
  void commit(const Message& delivered) override;
  void save_state(std::vector<std::uint8_t>& out) const override;
  void load_state(wire::Reader& in) override;
  // The ratio the next push will use.
  [[nodiscard]] double current_ratio() const;
  [[nodiscard]] std::span<const float> accumulation() const { return accumulation_; }
  [[nodiscard]] std::span<const float> velocity() const { return velocity_; }

 protected:
  void begin_push() override;
  void compress_tensor(const Segment& segment, std::span<const float> gradient, TensorBlock& out) override;

 private:
  double ratio_;
  float momentum_;
  std::uint64_t warmup_pushes_;
  float clip_norm_;
  std::uint64_t pushes_ = 0;
  double push_ratio_ = 0.0;
  std::vector<float> velocity_;      // u
  std::vector<float> accumulation_;  // v
  std::vector<float> scratch_;
};

}  // namespace rnn
