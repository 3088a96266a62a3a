#include "rnn/compress/signsgd_ef.hpp"

#include <cmath>

namespace rnn {

void ScaledSignCompressor::compress_tensor(const Segment& /*segment*/, std::span<const float> gradient,
                                           TensorBlock& out) {
  const float scale = mean_magnitude(gradient);
  out.dense = true;
  out.set_grid(ValueGrid::sign, scale);
  out.values.resize(gradient.size());
  for (std::size_t i = 0; i < gradient.size(); ++i) out.values[i] = std::signbit(gradient[i]) ? -scale : scale;
}

}  // namespace rnn
