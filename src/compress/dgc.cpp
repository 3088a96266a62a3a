#include "rnn/compress/dgc.hpp"

#include "rnn/core/state_io.hpp"

#include <algorithm>
#include <cmath>

#include "rnn/compress/selection.hpp"

namespace rnn {

DgcCompressor::DgcCompressor(const ParameterLayout& layout, double ratio, double momentum, std::uint64_t warmup_pushes,
                             double clip_norm)
    : TensorCompressor(layout),
      ratio_(ratio),
      momentum_(static_cast<float>(momentum)),
      warmup_pushes_(warmup_pushes),
      clip_norm_(static_cast<float>(clip_norm)),
      velocity_(layout.size(), 0.0F),
      accumulation_(layout.size(), 0.0F) {}

double DgcCompressor::current_ratio() const {
  if (pushes_ >= warmup_pushes_) return ratio_;
  const auto stage = static_cast<int>(4 * pushes_ / warmup_pushes_);  // 0 … 3
  return std::max(ratio_, std::pow(0.25, stage + 1));
}

void DgcCompressor::begin_push() {
  push_ratio_ = current_ratio();
  ++pushes_;
}

void DgcCompressor::compress_tensor(const Segment& segment, std::span<const float> gradient, TensorBlock& out) {
  float gain = 1.0F;
  if (clip_norm_ > 0.0F) {
    const double norm = l2_norm(gradient);
    if (norm > clip_norm_) gain = static_cast<float>(clip_norm_ / norm);
  }
  float* u = velocity_.data() + segment.offset;
  float* v = accumulation_.data() + segment.offset;
  for (std::size_t i = 0; i < gradient.size(); ++i) {
    u[i] = momentum_ * u[i] + gain * gradient[i];
    v[i] += u[i];
  }
  const std::span<const float> accumulated(v, gradient.size());
  select_top_k(accumulated, entries_to_send(push_ratio_, segment.size()), scratch_, out.indices);
  out.values.resize(out.indices.size());
  for (std::size_t j = 0; j < out.indices.size(); ++j) out.values[j] = v[out.indices[j]];
}

void DgcCompressor::commit(const Message& delivered) {
  for_each_entry(delivered, layout(), [&](std::size_t i, float sent) {
    accumulation_[i] -= sent;
    velocity_[i] = 0.0F;
  });
}

void DgcCompressor::save_state(std::vector<std::uint8_t>& out) const {
  wire::put_u64(out, pushes_);
  wire::put_floats(out, velocity_);
  wire::put_floats(out, accumulation_);
}

void DgcCompressor::load_state(wire::Reader& in) {
  const std::uint64_t pushes = in.u64("dgc pushes");
  std::vector<float> velocity = wire::get_floats(in, velocity_.size(), "dgc velocity");
  std::vector<float> accumulation = wire::get_floats(in, accumulation_.size(), "dgc accumulation");
  pushes_ = pushes;
  velocity_ = std::move(velocity);
  accumulation_ = std::move(accumulation);
}

}  // namespace rnn
