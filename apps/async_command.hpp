#pragma once
// rnnl-train --trainer async: the asynchronous parameter-server emulator on the command line. The
// options are an option group of rnnl-train's; the run itself is rnn::run_async (rnn/async/runner.hpp).
#include <CLI/CLI.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "rnn/async/runner.hpp"
#include "rnn/data/dataset.hpp"
#include "rnn/models/model.hpp"

namespace rnn::app {

struct AsyncCli {
  std::string mode = "virtual";
  std::size_t workers = 100;
  std::string compressor = "adacomp";
  double ratio = 0.01;
  std::optional<std::string> staleness;
  std::optional<std::string> server_optimizer;
  std::optional<std::uint64_t> max_updates;
  std::uint64_t eval_every = 1000;
  double eval_every_seconds = 0.0;
  std::size_t eval_limit = 0;
  std::optional<std::uint64_t> lr_decay_every;
  std::size_t max_delay = 10000;
  std::string segment_lr;
  std::optional<float> clip_norm;
  std::string shards = "iid";
  std::string speed = "1";
  std::string uplink = "10";
  std::string downlink = "50";
  std::string latency = "50";
  std::optional<double> sample_seconds;
  double crash_prob = 0.0;
  double down_time = 0.0;
  double leave_prob = 0.0;
  double loss_prob = 0.0;
  std::string availability;
  std::string index_encoding = "u32";
  std::string value_encoding = "f32";
  std::uint32_t codec_levels = 127;
  double threshold = 1e-3;
  std::uint32_t qsgd_levels = 4;
  bool error_feedback = false;
  double dgc_momentum = 0.9;
  std::uint64_t warmup_pushes = 0;
  double dgc_clip = 0.0;
  std::uint32_t conv_bin = 50;
  std::uint32_t dense_bin = 500;
  float server_momentum = 0.9F;
  float server_beta1 = 0.9F;
  float server_beta2 = 0.999F;
  std::optional<std::string> staleness_scales;
  std::string nonnegative_map = "clamp";
  bool normalise_gradient = false;
  float staleness_power = 1.0F;
  std::optional<std::string> select_by;
  bool adam_entry_bias = false;
  std::string checkpoint;
  std::uint64_t checkpoint_every = 0;
  std::string resume;
  std::string staleness_out;
};

// What rnnl-train's other options say, for the async run.
struct AsyncCommon {
  std::string dataset;
  std::optional<int> batch;
  std::optional<float> lr;
  std::optional<float> lr_decay;
  std::uint64_t seed = 1;
  int threads = 0;
  std::string out;
  bool progress = true;
  bool dry_run = false;  // check and print the run's settings, then return 0
};

void add_async_options(CLI::App& app, AsyncCli& cli);
// The options add_async_options adds (they apply to --trainer async only).
[[nodiscard]] const std::vector<std::string>& async_only_options();

// The emulator's options from the command line, with each model's defaults where an option is not
// given. Throws rnn::cli::UsageError naming the option of a value the library refuses.
[[nodiscard]] AsyncOptions make_async_options(const AsyncCli& cli, const AsyncCommon& common,
                                              const std::string& model_name);

// Runs and reports; returns the process exit code (0, or 1 if the run diverged).
int run_async_command(const AsyncCli& cli, const AsyncCommon& common, const Model& model, std::vector<float>& params,
                      const DatasetPair& data);

}  // namespace rnn::app
