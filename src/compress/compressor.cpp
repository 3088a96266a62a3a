#include "rnn/compress/compressor.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>

#include "rnn/compress/adacomp_ibm.hpp"
#include "rnn/compress/codec.hpp"
#include "rnn/compress/dense.hpp"
#include "rnn/compress/dgc.hpp"
#include "rnn/compress/error_feedback.hpp"
#include "rnn/compress/qsgd.hpp"
#include "rnn/compress/randomk.hpp"
#include "rnn/compress/signsgd_ef.hpp"
#include "rnn/compress/terngrad.hpp"
#include "rnn/compress/threshold.hpp"
#include "rnn/compress/topk.hpp"
#include "rnn/core/error.hpp"

namespace rnn {

void Compressor::check_size(std::span<const float> gradient) const {
  if (gradient.size() != layout_.size())
    throw Error(fmt::format("{}: gradient has {} entries, the model has {}", name(), gradient.size(), layout_.size()));
}

void Compressor::check_gradient(std::span<const float> gradient) const {
  check_size(gradient);
  for (const float g : gradient)
    if (!std::isfinite(g)) throw Error(fmt::format("{}: the gradient holds a non-finite value", name()));
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

std::size_t entries_to_send(double ratio, std::size_t n) {
  const auto k = static_cast<std::size_t>(std::floor(ratio * static_cast<double>(n)));
  return std::min(n, std::max<std::size_t>(1, k));
}

const std::vector<std::string>& compressor_names() {
  static const std::vector<std::string> names{"none", "topk",        "adacomp",    "randomk", "threshold", "topk-ef",
                                              "dgc",  "adacomp-ibm", "signsgd-ef", "qsgd",    "terngrad"};
  return names;
}

std::unique_ptr<Compressor> make_compressor(const CompressorOptions& o, const ParameterLayout& layout) {
  const std::string& name = o.name;
  const bool uses_ratio =
      name == "topk" || name == "adacomp" || name == "randomk" || name == "topk-ef" || name == "dgc";
  const bool keeps_residual = name == "topk-ef" || name == "dgc" || name == "adacomp-ibm" || name == "signsgd-ef";
  if (uses_ratio && !(o.ratio > 0.0 && o.ratio <= 1.0))
    throw Error(fmt::format("{}: the ratio must be in (0, 1], got {}", name, o.ratio));
  if (name == "threshold" && !(o.threshold >= 0.0 && std::isfinite(o.threshold)))
    throw Error(fmt::format("threshold: h must be a finite value ≥ 0, got {}", o.threshold));
  if (name == "qsgd" && (o.levels < 1 || o.levels > max_levels))
    throw Error(fmt::format("qsgd: levels must be in 1 … {}, got {}", max_levels, o.levels));
  if (name == "dgc" && !(o.momentum >= 0.0 && o.momentum < 1.0))
    throw Error(fmt::format("dgc: momentum must be in [0, 1), got {}", o.momentum));
  if (name == "dgc" && !(o.clip_norm >= 0.0 && std::isfinite(o.clip_norm)))
    throw Error(fmt::format("dgc: clip norm must be ≥ 0, got {}", o.clip_norm));
  if (name == "adacomp-ibm" && (o.conv_bin < 1 || o.dense_bin < 1)) throw Error("adacomp-ibm: bin lengths must be ≥ 1");
  // A method that already keeps a residual would count it twice.
  if (o.error_feedback && keeps_residual)
    throw Error(fmt::format("{} keeps its own residual; error feedback cannot be added", name));

  std::unique_ptr<Compressor> c;
  if (name == "none") {
    c = std::make_unique<DenseCompressor>(layout);
  } else if (name == "topk" || name == "adacomp") {
    c = std::make_unique<TopKCompressor>(layout, o.ratio, name);
  } else if (name == "topk-ef") {
    c = std::make_unique<ErrorFeedback>(layout, std::make_unique<TopKCompressor>(layout, o.ratio), "topk-ef");
  } else if (name == "randomk") {
    c = std::make_unique<RandomKCompressor>(layout, o.ratio, o.seed, o.stream);
  } else if (name == "threshold") {
    c = std::make_unique<ThresholdCompressor>(layout, o.threshold);
  } else if (name == "dgc") {
    c = std::make_unique<DgcCompressor>(layout, o.ratio, o.momentum, o.warmup_pushes, o.clip_norm);
  } else if (name == "adacomp-ibm") {
    c = std::make_unique<AdaCompIbmCompressor>(layout, o.conv_bin, o.dense_bin);
  } else if (name == "signsgd-ef") {
    c = std::make_unique<ErrorFeedback>(layout, std::make_unique<ScaledSignCompressor>(layout), "signsgd-ef");
  } else if (name == "qsgd") {
    c = std::make_unique<QsgdCompressor>(layout, o.levels, o.seed, o.stream);
  } else if (name == "terngrad") {
    c = std::make_unique<TernGradCompressor>(layout, o.seed, o.stream);
  } else {
    throw Error(fmt::format("unknown compressor '{}' (choose one of: {})", name, fmt::join(compressor_names(), ", ")));
  }
  if (o.error_feedback) return std::make_unique<ErrorFeedback>(layout, std::move(c), name + "+ef");
  return c;
}

}  // namespace rnn
