#include "rnn/compress/qsgd.hpp"

#include <algorithm>
#include <cmath>

namespace rnn {

QsgdCompressor::QsgdCompressor(const ParameterLayout& layout, std::uint32_t levels, std::uint64_t seed,
                               std::uint64_t stream)
    : TensorCompressor(layout), levels_(levels), rng_(seed, stream) {}

void QsgdCompressor::compress_tensor(const Segment& /*segment*/, std::span<const float> gradient, TensorBlock& out) {
  const auto norm = static_cast<float>(l2_norm(gradient));
  out.dense = true;
  out.grid = ValueGrid::levels;
  out.scale = norm;
  out.levels = levels_;
  out.values.resize(gradient.size());
  const auto s = static_cast<double>(levels_);
  for (std::size_t i = 0; i < gradient.size(); ++i) {
    if (norm == 0.0F) {
      out.values[i] = 0.0F;
      continue;
    }
    const double position = std::fabs(gradient[i]) / static_cast<double>(norm) * s;  // in [0, s]
    const auto level = static_cast<std::int32_t>(std::min(s, std::floor(position + rng_.uniform())));
    out.values[i] = level_value(norm, std::signbit(gradient[i]) ? -level : level, levels_);
  }
}

}  // namespace rnn
