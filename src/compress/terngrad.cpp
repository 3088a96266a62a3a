#include "rnn/compress/terngrad.hpp"

#include <algorithm>
#include <cmath>

namespace rnn {

TernGradCompressor::TernGradCompressor(const ParameterLayout& layout, std::uint64_t seed, std::uint64_t stream)
    : TensorCompressor(layout), rng_(seed, stream) {}

void TernGradCompressor::compress_tensor(const Segment& /*segment*/, std::span<const float> gradient,
                                         TensorBlock& out) {
  const float max_abs = max_magnitude(gradient);
  out.dense = true;
  out.grid = ValueGrid::levels;
  out.scale = max_abs;
  out.levels = 1;
  out.values.resize(gradient.size());
  for (std::size_t i = 0; i < gradient.size(); ++i) {
    const bool keep = max_abs > 0.0F && rng_.uniform() < std::fabs(gradient[i]) / max_abs;
    const std::int32_t level = keep ? (std::signbit(gradient[i]) ? -1 : 1) : 0;
    out.values[i] = level_value(max_abs, level, 1);
  }
}

}  // namespace rnn
