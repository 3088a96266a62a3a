#include "rnn/compress/terngrad.hpp"

#include "rnn/core/state_io.hpp"

#include <algorithm>
#include <cmath>

namespace rnn {

TernGradCompressor::TernGradCompressor(const ParameterLayout& layout, double clip, std::uint64_t seed,
                                       std::uint64_t stream)
    : TensorCompressor(layout), clip_(clip), rng_(seed, stream) {}

double terngrad_clip_bound(std::span<const float> gradient, double clip) {
  if (gradient.empty()) return 0.0;
  const auto n = static_cast<double>(gradient.size());
  double sum = 0.0;
  for (const float g : gradient) sum += g;
  const double mean = sum / n;
  double squares = 0.0;
  for (const float g : gradient) squares += (g - mean) * (g - mean);
  return clip * std::sqrt(squares / n);
}

void TernGradCompressor::compress_tensor(const Segment& /*segment*/, std::span<const float> gradient,
                                         TensorBlock& out) {
  // With clipping, the largest clipped magnitude is min(max |g|, c·σ): no second pass needed. A
  // tensor of equal entries (σ = 0, e.g. a one-entry bias) has no outlier to cut and is not clipped.
  float scale = max_magnitude(gradient);
  if (clip_ > 0.0) {
    const auto bound = static_cast<float>(terngrad_clip_bound(gradient, clip_));
    if (bound > 0.0F) scale = std::min(scale, bound);
  }
  out.dense = true;
  out.set_grid(ValueGrid::levels, scale, 1);
  out.values.resize(gradient.size());
  for (std::size_t i = 0; i < gradient.size(); ++i) {
    const float clipped = std::min(std::fabs(gradient[i]), scale);
    const bool keep = scale > 0.0F && rng_.uniform() < clipped / scale;
    const std::int32_t level = keep ? (std::signbit(gradient[i]) ? -1 : 1) : 0;
    out.values[i] = level_value(scale, level, 1);
  }
}

void TernGradCompressor::save_state(std::vector<std::uint8_t>& out) const {
  wire::put_rng(out, rng_);
}

void TernGradCompressor::load_state(wire::Reader& in) {
  rng_ = wire::get_rng(in, "terngrad random stream");
}

}  // namespace rnn
