#include "rnn/compress/threshold.hpp"

#include <cmath>

namespace rnn {

ThresholdCompressor::ThresholdCompressor(const ParameterLayout& layout, double threshold)
    : TensorCompressor(layout), threshold_(static_cast<float>(threshold)) {}

void ThresholdCompressor::compress_tensor(const Segment& /*segment*/, std::span<const float> gradient,
                                          TensorBlock& out) {
  for (std::size_t i = 0; i < gradient.size(); ++i) {
    if (std::fabs(gradient[i]) >= threshold_) {
      out.indices.push_back(static_cast<std::uint32_t>(i));
      out.values.push_back(gradient[i]);
    }
  }
}

}  // namespace rnn
