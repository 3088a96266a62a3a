#pragma once
// `threshold`: send every entry with |g| ≥ h (Strom, "Scalable distributed DNN training using
// commodity GPU cloud computing", Interspeech 2015, which adds a residual: combine with
// error_feedback). The number of entries sent varies from push to push; a tensor with none
// above h sends nothing.
#include "rnn/compress/compressor.hpp"

namespace rnn {

class ThresholdCompressor final : public TensorCompressor {
 public:
  ThresholdCompressor(const ParameterLayout& layout, double threshold);
  [[nodiscard]] std::string_view name() const override { return "threshold"; }

 protected:
  void compress_tensor(const Segment& segment, std::span<const float> gradient, TensorBlock& out) override;

 private:
  float threshold_;
};

}  // namespace rnn
