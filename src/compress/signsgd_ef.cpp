#include "rnn/compress/signsgd_ef.hpp"

#include <cmath>

namespace rnn {

void ScaledSignCompressor::compress_tensor(const Segment& /*segment*/, std::span<const float> gradient,
                                           TensorBlock& out) {
  double l1 = 0.0;
  for (const float g : gradient) l1 += std::fabs(g);
  const auto scale = gradient.empty() ? 0.0F : static_cast<float>(l1 / static_cast<double>(gradient.size()));
  out.dense = true;
  out.grid = ValueGrid::sign;
  out.scale = scale;
  out.values.resize(gradient.size());
  for (std::size_t i = 0; i < gradient.size(); ++i) out.values[i] = std::signbit(gradient[i]) ? -scale : scale;
}

}  // namespace rnn
