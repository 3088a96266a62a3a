#include "rnn/compress/topk.hpp"

#include <cmath>

#include <fmt/format.h>

#include "rnn/compress/selection.hpp"
#include "rnn/core/error.hpp"
#include "rnn/core/state_io.hpp"

namespace rnn {

TopKScore parse_top_k_score(std::string_view name) {
  if (name == "magnitude") return TopKScore::magnitude;
  if (name == "normalised") return TopKScore::normalised;
  throw Error(fmt::format("unknown top-k score '{}' (choose magnitude or normalised)", name));
}

std::string_view to_string(TopKScore score) {
  return score == TopKScore::normalised ? "normalised" : "magnitude";
}

TopKCompressor::TopKCompressor(const ParameterLayout& layout, double ratio, std::string name, TopKScore score)
    : TensorCompressor(layout), ratio_(ratio), name_(std::move(name)), score_(score) {
  if (score_ == TopKScore::normalised) mean_square_.assign(layout.size(), 0.0F);
}

void TopKCompressor::begin_push() {
  ++pushes_;
}

void TopKCompressor::compress_tensor(const Segment& segment, std::span<const float> gradient, TensorBlock& out) {
  const std::size_t k = entries_to_send(ratio_, segment.size());
  if (score_ == TopKScore::magnitude) {
    select_top_k(gradient, k, scratch_, out.indices);
  } else {
    const float beta = kScoreDecay;
    const float correction =
        1.0F / static_cast<float>(1.0 - std::pow(static_cast<double>(beta), static_cast<double>(pushes_)));
    float* v = mean_square_.data() + segment.offset;
    scores_.resize(gradient.size());
    for (std::size_t i = 0; i < gradient.size(); ++i) {
      const float g = gradient[i];
      v[i] = beta * v[i] + (1.0F - beta) * g * g;
      const float rms = std::sqrt(v[i] * correction);
      scores_[i] = rms > 0.0F ? std::abs(g) / rms : 0.0F;
    }
    select_top_k(scores_, k, scratch_, out.indices);
  }
  out.values.resize(out.indices.size());
  for (std::size_t j = 0; j < out.indices.size(); ++j) out.values[j] = gradient[out.indices[j]];
}

void TopKCompressor::save_state(std::vector<std::uint8_t>& out) const {
  if (score_ == TopKScore::magnitude) return;
  wire::put_u64(out, pushes_);
  wire::put_floats(out, mean_square_);
}

void TopKCompressor::load_state(wire::Reader& in) {
  if (score_ == TopKScore::magnitude) return;
  const std::uint64_t pushes = in.u64("top-k push count");
  std::vector<float> mean_square = wire::get_floats(in, mean_square_.size(), "top-k running mean squares");
  for (const float v : mean_square)
    if (!std::isfinite(v) || v < 0.0F)
      throw Error(fmt::format("top-k running mean square {} is not finite and >= 0", v));
  pushes_ = pushes;
  mean_square_ = std::move(mean_square);
}

}  // namespace rnn
