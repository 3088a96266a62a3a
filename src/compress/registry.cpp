#include "rnn/compress/registry.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
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
namespace {

namespace opt = compressor_option;
using Options = CompressorOptions;
using Layout = ParameterLayout;

std::unique_ptr<Compressor> with_residual(const Layout& layout, std::unique_ptr<Compressor> inner, std::string name) {
  return std::make_unique<ErrorFeedback>(layout, std::move(inner), std::move(name));
}

// name, description, options read, keeps a residual, factory
constexpr std::array table{
    CompressorInfo{"none", "every entry, unchanged (dense ASGD; Dean et al. 2012)", 0, false,
                   [](const Options&, const Layout& l) -> std::unique_ptr<Compressor> {
                     return std::make_unique<DenseCompressor>(l);
                   }},
    CompressorInfo{"topk", "the k = max(1, floor(c·n)) largest |g| of each tensor, no residual (Comp-ASGD)",
                   opt::ratio | opt::score, false,
                   [](const Options& o, const Layout& l) -> std::unique_ptr<Compressor> {
                     return std::make_unique<TopKCompressor>(l, o.ratio, "topk", parse_top_k_score(o.score));
                   }},
    CompressorInfo{"adacomp", "top-k per tensor, for per-parameter staleness steps (Hardy et al. 2017)",
                   opt::ratio | opt::score, false,
                   [](const Options& o, const Layout& l) -> std::unique_ptr<Compressor> {
                     return std::make_unique<TopKCompressor>(l, o.ratio, "adacomp", parse_top_k_score(o.score));
                   }},
    CompressorInfo{"randomk", "k uniformly chosen entries of each tensor (Stich et al. 2018)", opt::ratio | opt::seed,
                   false,
                   [](const Options& o, const Layout& l) -> std::unique_ptr<Compressor> {
                     return std::make_unique<RandomKCompressor>(l, o.ratio, o.seed, o.stream);
                   }},
    CompressorInfo{"threshold", "every entry with |g| >= h (Strom 2015)", opt::threshold, false,
                   [](const Options& o, const Layout& l) -> std::unique_ptr<Compressor> {
                     return std::make_unique<ThresholdCompressor>(l, o.threshold);
                   }},
    CompressorInfo{"topk-ef", "top-k of gradient + residual (error feedback; Stich et al. 2018)", opt::ratio, true,
                   [](const Options& o, const Layout& l) -> std::unique_ptr<Compressor> {
                     return with_residual(l, std::make_unique<TopKCompressor>(l, o.ratio), "topk-ef");
                   }},
    CompressorInfo{"dgc", "Deep Gradient Compression: top-k with momentum correction (Lin et al. 2018)",
                   opt::ratio | opt::momentum | opt::warmup_pushes | opt::clip_norm, true,
                   [](const Options& o, const Layout& l) -> std::unique_ptr<Compressor> {
                     return std::make_unique<DgcCompressor>(l, o.ratio, o.momentum, o.warmup_pushes, o.clip_norm);
                   }},
    CompressorInfo{"adacomp-ibm", "local bin selection with residual, values ±scale (Chen et al. 2018)", opt::bins,
                   true,
                   [](const Options& o, const Layout& l) -> std::unique_ptr<Compressor> {
                     return std::make_unique<AdaCompIbmCompressor>(l, o.conv_bin, o.dense_bin);
                   }},
    CompressorInfo{"signsgd-ef", "(||p||_1/n)·sign(p), p = g + residual (Karimireddy et al. 2019)", 0, true,
                   [](const Options&, const Layout& l) -> std::unique_ptr<Compressor> {
                     return with_residual(l, std::make_unique<ScaledSignCompressor>(l), "signsgd-ef");
                   }},
    CompressorInfo{"qsgd", "stochastic rounding to s levels of each bucket's l2 norm (Alistarh et al. 2017)",
                   opt::levels | opt::bucket | opt::seed, false,
                   [](const Options& o, const Layout& l) -> std::unique_ptr<Compressor> {
                     return std::make_unique<QsgdCompressor>(l, o.levels, o.bucket, o.seed, o.stream);
                   }},
    CompressorInfo{"terngrad", "stochastic ternary {-s, 0, +s} after clipping at c·σ (Wen et al. 2017)",
                   opt::clip_stddev | opt::seed, false,
                   [](const Options& o, const Layout& l) -> std::unique_ptr<Compressor> {
                     return std::make_unique<TernGradCompressor>(l, o.clip_stddev, o.seed, o.stream);
                   }},
};

// Each option's name and range check, for the compressors that read it.
struct OptionRule {
  std::uint32_t option;
  std::string_view name;
  void (*check)(const Options& o, std::string_view compressor);
};

constexpr std::array option_rules{
    OptionRule{opt::ratio, "ratio",
               [](const Options& o, std::string_view c) {
                 if (!(o.ratio > 0.0 && o.ratio <= 1.0))
                   throw Error(fmt::format("{}: the ratio must be in (0, 1], got {}", c, o.ratio));
               }},
    OptionRule{opt::threshold, "threshold",
               [](const Options& o, std::string_view c) {
                 if (!(o.threshold >= 0.0 && std::isfinite(o.threshold)))
                   throw Error(fmt::format("{}: h must be a finite value ≥ 0, got {}", c, o.threshold));
               }},
    OptionRule{opt::levels, "levels",
               [](const Options& o, std::string_view c) {
                 if (o.levels < 1 || o.levels > max_levels)
                   throw Error(fmt::format("{}: levels must be in 1 … {}, got {}", c, max_levels, o.levels));
               }},
    OptionRule{opt::bucket, "bucket", [](const Options&, std::string_view) {}},  // any length; 0 = whole tensor
    OptionRule{opt::clip_stddev, "clip_stddev",
               [](const Options& o, std::string_view c) {
                 if (!(o.clip_stddev >= 0.0 && std::isfinite(o.clip_stddev)))
                   throw Error(
                       fmt::format("{}: the clipping bound must be a finite number of standard deviations "
                                   "≥ 0, got {}",
                                   c, o.clip_stddev));
               }},
    OptionRule{opt::momentum, "momentum",
               [](const Options& o, std::string_view c) {
                 if (!(o.momentum >= 0.0 && o.momentum < 1.0))
                   throw Error(fmt::format("{}: momentum must be in [0, 1), got {}", c, o.momentum));
               }},
    OptionRule{opt::warmup_pushes, "warmup_pushes", [](const Options&, std::string_view) {}},
    OptionRule{opt::clip_norm, "clip_norm",
               [](const Options& o, std::string_view c) {
                 if (!(o.clip_norm >= 0.0 && std::isfinite(o.clip_norm)))
                   throw Error(fmt::format("{}: clip norm must be a finite value ≥ 0, got {}", c, o.clip_norm));
               }},
    OptionRule{opt::bins, "conv_bin, dense_bin",
               [](const Options& o, std::string_view c) {
                 if (o.conv_bin < 1 || o.dense_bin < 1) throw Error(fmt::format("{}: bin lengths must be ≥ 1", c));
               }},
    OptionRule{opt::seed, "seed, stream", [](const Options&, std::string_view) {}},
    OptionRule{opt::score, "score", [](const Options& o, std::string_view) { (void)parse_top_k_score(o.score); }},
};

}  // namespace

std::span<const CompressorInfo> compressor_table() {
  return table;
}

const std::vector<std::string>& compressor_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> all;
    for (const auto& info : table) all.emplace_back(info.name);
    return all;
  }();
  return names;
}

const CompressorInfo& compressor_info(std::string_view name) {
  const auto* it = std::find_if(table.begin(), table.end(), [&](const CompressorInfo& c) { return c.name == name; });
  if (it == table.end())
    throw Error(fmt::format("unknown compressor '{}' (choose one of: {})", name, fmt::join(compressor_names(), ", ")));
  return *it;
}

std::vector<std::string_view> option_names(std::uint32_t options) {
  std::vector<std::string_view> names;
  for (const auto& rule : option_rules)
    if ((options & rule.option) != 0) names.push_back(rule.name);
  return names;
}

void check_compressor_options(const CompressorOptions& options) {
  const CompressorInfo& info = compressor_info(options.name);
  for (const auto& rule : option_rules)
    if (info.uses(rule.option)) rule.check(options, info.name);
  // A method that already keeps a residual would count it twice.
  if (options.error_feedback && info.keeps_residual)
    throw Error(fmt::format("{} keeps its own residual; error feedback cannot be added", info.name));
}

std::unique_ptr<Compressor> make_compressor(const CompressorOptions& options, const ParameterLayout& layout) {
  check_compressor_options(options);
  auto compressor = compressor_info(options.name).make(options, layout);
  if (options.error_feedback) return with_residual(layout, std::move(compressor), options.name + "+ef");
  return compressor;
}

}  // namespace rnn
