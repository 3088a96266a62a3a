#pragma once
// Compressors by name. One table lists every method: its name, what it sends, which options it
// reads, whether it keeps a residual (see the residual rule in compressor.hpp), and how it is
// made; the names, the option checks and the factory all come from that table.
//
//   none         every entry (dense ASGD; Dean et al. 2012)
//   topk         the k = max(1, ⌊c·n⌋) largest |g| per tensor, no residual (Comp-ASGD)
//   adacomp      the same selection, meant for per-parameter staleness steps (Hardy et al. 2017)
//   randomk      k uniformly chosen entries per tensor (Stich et al. 2018)
//   threshold    entries with |g| ≥ h (Strom 2015)
//   topk-ef      top-k of gradient + residual (error feedback)
//   dgc          Deep Gradient Compression (Lin et al. 2018)
//   adacomp-ibm  local bin selection with residual, ±scale (Chen et al. 2018)
//   signsgd-ef   scaled sign with error feedback (Karimireddy et al. 2019)
//   qsgd         stochastic rounding to s levels of each bucket's l2 norm (Alistarh et al. 2017)
//   terngrad     stochastic ternary {−s, 0, +s} after 2.5σ clipping (Wen et al. 2017)
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "rnn/compress/compressor.hpp"
#include "rnn/compress/qsgd.hpp"
#include "rnn/compress/terngrad.hpp"

namespace rnn {

// Everything a compressor may be configured with; each reads its own fields (CompressorInfo).
struct CompressorOptions {
  std::string name = "adacomp";
  double ratio = 0.01;                         // c: fraction of each tensor sent, k = max(1, floor(c·n))
  double threshold = 1e-3;                     // threshold: send |g| ≥ h
  std::uint32_t levels = 4;                    // qsgd: s quantisation levels
  std::uint32_t bucket = qsgd_default_bucket;  // qsgd: entries per l2 norm (0 = one per tensor)
  double clip_stddev = terngrad_default_clip;  // terngrad: clip at ±c·σ before scaling (0 = off)
  bool error_feedback = false;                 // wrap a compressor without a residual in one
  double momentum = 0.9;                       // dgc: momentum correction factor
  std::uint64_t warmup_pushes = 0;             // dgc: pushes over which the ratio falls from 25 % to c
  double clip_norm = 0.0;                      // dgc: local gradient clipping of each tensor's l2 norm (0 = off)
  std::uint32_t conv_bin = 50;                 // adacomp-ibm: bin length for convolution tensors
  std::uint32_t dense_bin = 500;               // adacomp-ibm: bin length for every other tensor
  std::uint64_t seed = 1;                      // randomk, qsgd, terngrad: random stream
  std::uint64_t stream = 0;                    // … per worker
  std::string score = "magnitude";             // topk, adacomp: rank by |g| or by |g| / its running rms
};

// The CompressorOptions fields a compressor reads, as bits of CompressorInfo::options.
namespace compressor_option {
inline constexpr std::uint32_t ratio = 1U << 0U;
inline constexpr std::uint32_t threshold = 1U << 1U;
inline constexpr std::uint32_t levels = 1U << 2U;
inline constexpr std::uint32_t bucket = 1U << 3U;
inline constexpr std::uint32_t clip_stddev = 1U << 4U;
inline constexpr std::uint32_t momentum = 1U << 5U;
inline constexpr std::uint32_t warmup_pushes = 1U << 6U;
inline constexpr std::uint32_t clip_norm = 1U << 7U;
inline constexpr std::uint32_t bins = 1U << 8U;  // conv_bin and dense_bin
inline constexpr std::uint32_t seed = 1U << 9U;  // seed and stream
inline constexpr std::uint32_t score = 1U << 10U;
}  // namespace compressor_option

struct CompressorInfo {
  std::string_view name;
  std::string_view description;  // one line: what it sends and its source
  std::uint32_t options = 0;     // compressor_option bits it reads
  bool keeps_residual = false;   // keeps what it does not deliver (the residual rule applies)
  std::unique_ptr<Compressor> (*make)(const CompressorOptions&, const ParameterLayout&) = nullptr;

  [[nodiscard]] bool uses(std::uint32_t option) const { return (options & option) != 0; }
};

// Every compressor, in a fixed order.
[[nodiscard]] std::span<const CompressorInfo> compressor_table();
// The table's names, in order.
[[nodiscard]] const std::vector<std::string>& compressor_names();
// The entry for `name`; throws rnn::Error listing the names if there is none.
[[nodiscard]] const CompressorInfo& compressor_info(std::string_view name);
// The CompressorOptions field names of a set of compressor_option bits, e.g. {"ratio", "seed"}.
[[nodiscard]] std::vector<std::string_view> option_names(std::uint32_t options);

// Throws rnn::Error naming the problem for an unknown name, an out-of-range option the
// compressor reads, or error feedback asked of a compressor that keeps its own residual.
void check_compressor_options(const CompressorOptions& options);
[[nodiscard]] std::unique_ptr<Compressor> make_compressor(const CompressorOptions& options,
                                                          const ParameterLayout& layout);

}  // namespace rnn
