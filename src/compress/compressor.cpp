#include "rnn/compress/compressor.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "rnn/core/error.hpp"
#include "rnn/core/finite.hpp"

namespace rnn {

void Compressor::check_size(std::span<const float> gradient) const {
  if (gradient.size() != layout_.size())
    throw Error(fmt::format("{}: gradient has {} entries, the model has {}", name(), gradient.size(), layout_.size()));
}

void Compressor::check_gradient(std::span<const float> gradient) const {
  check_size(gradient);
  if (!all_finite(gradient)) throw Error(fmt::format("{}: the gradient holds a non-finite value", name()));
}

void TensorCompressor::compress(std::span<const float> gradient, Message& out) {
  check_gradient(gradient);
  const auto& segments = layout().segments();
  out.blocks.resize(segments.size());
  begin_push();
  for (std::size_t s = 0; s < segments.size(); ++s) {
    TensorBlock& block = out.blocks[s];
    block.clear_entries();
    block.segment = static_cast<std::uint32_t>(s);
    compress_tensor(segments[s], gradient.subspan(segments[s].offset, segments[s].size()), block);
  }
}

void check_step_scale(const Compressor& compressor, StepScale scale) {
  if (scale == StepScale::varying && compressor.keeps_residual())
    throw Error(fmt::format(
        "compressor '{}' keeps a residual, which assumes every delivered value is applied in full with one constant "
        "step; a step scaled by staleness or a changing learning rate would silently lose part of it (use the plain "
        "step at a constant learning rate, or a compressor without a residual)",
        compressor.name()));
}

std::size_t entries_to_send(double ratio, std::size_t n) {
  const auto k = static_cast<std::size_t>(std::floor(ratio * static_cast<double>(n)));
  return std::min(n, std::max<std::size_t>(1, k));
}

}  // namespace rnn
