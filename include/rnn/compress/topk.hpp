#pragma once
// Per-tensor top-k, as AdaComp's released code runs it (Hardy, Le Merrer, Sericola, "Distributed
// deep learning on edge-devices: feasibility via adaptive compression", IEEE NCA 2017; github
// Hardy-c/AdaComp): for each tensor of n entries, send the k = max(1, floor(c·n)) entries of
// largest |g| with their values; what is not sent is dropped (no residual).
//
// The same selection serves two methods that differ only at the server:
//   `topk`     Comp-ASGD, applied with a plain step;
//   `adacomp`  applied with per-parameter staleness, α / max(1, τ_i) (see step_policy.hpp).
//
// Selection score (TopKScore): `magnitude` ranks by |g_i| (the published rule). `normalised`
// ranks by |g_i| / sqrt(v_i), v_i the worker's running mean of g_i² (v ← β v + (1 − β) g², this
// push's gradient included, bias-corrected), so that an entry whose gradient is large compared with
// its own history is sent, rather than the same large-gradient entries every push; the values sent
// are the raw g_i. It keeps one float per parameter, saved in checkpoints. Entries whose gradient
// has always been 0 score 0.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "rnn/compress/compressor.hpp"

namespace rnn {

enum class TopKScore : std::uint8_t { magnitude, normalised };
[[nodiscard]] TopKScore parse_top_k_score(std::string_view name);  // "magnitude", "normalised"
[[nodiscard]] std::string_view to_string(TopKScore score);

class TopKCompressor final : public TensorCompressor {
 public:
  static constexpr float kScoreDecay = 0.9F;  // β of the normalised score's running mean

  TopKCompressor(const ParameterLayout& layout, double ratio, std::string name = "topk",
                 TopKScore score = TopKScore::magnitude);
  [[nodiscard]] std::string_view name() const override { return name_; }

 protected:
  void begin_push() override;
  void compress_tensor(const Segment& segment, std::span<const float> gradient, TensorBlock& out) override;

 public:
  void save_state(std::vector<std::uint8_t>& out) const override;
  void load_state(wire::Reader& in) override;

 private:
  double ratio_;
  std::string name_;
  TopKScore score_;
  std::vector<float> scratch_;
  std::vector<float> mean_square_;  // normalised score: v_i of every parameter
  std::vector<float> scores_;       // normalised score: one tensor's scores
  std::uint64_t pushes_ = 0;        // normalised score: pushes compressed (bias correction)
};

}  // namespace rnn
