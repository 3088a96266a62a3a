#include "rnn/compress/qsgd.hpp"

#include "rnn/core/state_io.hpp"

#include <algorithm>
#include <cmath>

namespace rnn {

QsgdCompressor::QsgdCompressor(const ParameterLayout& layout, std::uint32_t levels, std::uint32_t bucket,
                               std::uint64_t seed, std::uint64_t stream)
    : TensorCompressor(layout), levels_(levels), bucket_(bucket), rng_(seed, stream) {}

void QsgdCompressor::compress_tensor(const Segment& /*segment*/, std::span<const float> gradient, TensorBlock& out) {
  const std::size_t n = gradient.size();
  const std::size_t length = bucket_ == 0 || bucket_ >= n ? n : bucket_;
  out.dense = true;
  out.grid = ValueGrid::levels;
  out.levels = levels_;
  out.bucket = length == n ? 0 : bucket_;
  out.scales.resize(bucket_count(n, out.bucket));
  out.values.resize(n);
  const auto s = static_cast<double>(levels_);
  for (std::size_t b = 0; b < out.scales.size(); ++b) {
    const std::size_t start = b * length;
    const std::span<const float> bucket = gradient.subspan(start, std::min(length, n - start));
    const auto norm = static_cast<float>(l2_norm(bucket));
    out.scales[b] = norm;
    for (std::size_t i = 0; i < bucket.size(); ++i) {
      if (norm == 0.0F) {
        out.values[start + i] = 0.0F;
        continue;
      }
      const double position = std::fabs(bucket[i]) / static_cast<double>(norm) * s;  // in [0, s]
      const auto level = static_cast<std::int32_t>(std::min(s, std::floor(position + rng_.uniform())));
      out.values[start + i] = level_value(norm, std::signbit(bucket[i]) ? -level : level, levels_);
    }
  }
}

void QsgdCompressor::save_state(std::vector<std::uint8_t>& out) const {
  wire::put_rng(out, rng_);
}

void QsgdCompressor::load_state(wire::Reader& in) {
  rng_ = wire::get_rng(in, "qsgd random stream");
}

}  // namespace rnn
