#include "async_command.hpp"

#include <csignal>
#include <cstdio>
#include <limits>
#include <optional>

#include <fmt/format.h>

#include "option_checks.hpp"
#include "rnn/async/runner.hpp"
#include "rnn/compress/registry.hpp"
#include "rnn/core/atomic_file.hpp"
#include "rnn/core/error.hpp"
#include "rnn/models/defaults.hpp"

namespace rnn::app {
namespace {

std::atomic<bool> interrupted{false};

extern "C" void on_signal(int /*signal*/) {
  interrupted.store(true);
}

std::string encodings(const AsyncOptions& o) {
  return fmt::format("{}/{}", to_string(o.codec.indices), to_string(o.codec.values));
}

}  // namespace

void add_async_options(CLI::App& app, AsyncCli& c) {
  using rnn::cli::FiniteRange;
  using rnn::cli::WholeNumber;
  constexpr auto kMax = std::numeric_limits<std::uint64_t>::max();
  const std::string g = "Asynchronous training (--trainer async)";
  const auto option = [&](const char* name, auto& value, const char* help) {
    return app.add_option(name, value, help)->group(g);
  };
  option("--mode", c.mode,
         "virtual: discrete-event simulation of the devices, bit-reproducible for a seed on any --threads; threads: "
         "the workers' rounds really run concurrently on --threads threads")
      ->check(CLI::IsMember({"virtual", "threads"}))
      ->capture_default_str();
  option("--workers", c.workers, "Emulated edge workers, each with its own shard of the training set")
      ->check(WholeNumber(1, 1U << 20U))
      ->capture_default_str();
  option("--compressor", c.compressor,
         "What a worker sends: none (dense ASGD), adacomp, topk, randomk, threshold, topk-ef, dgc, adacomp-ibm, "
         "signsgd-ef, qsgd, terngrad")
      ->check(CLI::IsMember(rnn::compressor_names()))
      ->capture_default_str();
  option("--ratio", c.ratio, "Fraction c of each tensor a sparsifier sends, k = max(1, floor(c n))")
      ->check(FiniteRange(1e-9, 1.0))
      ->capture_default_str();
  option("--staleness", c.staleness,
         "Server step scaling: plain, global (1/tau, tau = updates since the fetch) or per-parameter (1/tau_i, "
         "AdaComp) [per-parameter for adacomp, plain otherwise]")
      ->check(CLI::IsMember({"plain", "global", "per-parameter"}));
  option("--server-optimizer", c.server_optimizer,
         "Update rule at the server on the staleness-scaled pushes: sgd, momentum (--server-momentum) or adam (lazy: "
         "untouched entries keep their moments) [adam for rnl_deep, rnl_hybrid, cnn_rnl, gelenbe_ff; sgd otherwise]")
      ->check(CLI::IsMember({"sgd", "momentum", "adam"}));
  option("--server-momentum", c.server_momentum, "Momentum of --server-optimizer momentum")
      ->check(FiniteRange(1e-6, 0.999999))
      ->capture_default_str();
  option("--server-beta1", c.server_beta1,
         "First-moment decay of --server-optimizer adam (0: no momentum, RMSprop-like)")
      ->check(FiniteRange(0.0, 0.999999))
      ->capture_default_str();
  option("--server-beta2", c.server_beta2, "Second-moment decay of --server-optimizer adam")
      ->check(FiniteRange(1e-6, 0.999999))
      ->capture_default_str();
  app.add_flag("--server-adam-entry-bias", c.adam_entry_bias,
               "Correct the server's lazy Adam moments for each entry's own update count, not the server's")
      ->group(g);
  option("--staleness-scales", c.staleness_scales,
         "With --server-optimizer momentum or adam, what the staleness scale multiplies: the gradient fed to the rule, "
         "or the step the rule makes [step with the model's default rule, else gradient]")
      ->check(CLI::IsMember({"gradient", "step"}));
  option("--staleness-power", c.staleness_power,
         "Exponent p of the staleness scale 1/tau^p (1: AdaComp's 1/tau; 0: no scaling)")
      ->check(FiniteRange(0.0, 4.0))
      ->capture_default_str();
  option("--rnn-weight-step", c.nonnegative_map,
         "In which coordinate the server steps RNN weights w >= 0: clamp (step w, clamp at 0), square (w = u^2) or "
         "softplus (w = log(1 + e^u))")
      ->check(CLI::IsMember({"clamp", "square", "softplus"}))
      ->capture_default_str();
  option(
      "--max-updates", c.max_updates,
      "Stop after this many pushes applied by the server [60000 for rnl_deep, rnl_hybrid, cnn_rnl, gelenbe_ff; 40000 "
      "otherwise]")
      ->check(WholeNumber(1, kMax));
  option("--eval-every", c.eval_every, "Evaluate on the test set every N updates (0: at the start and end only)")
      ->check(WholeNumber(0, kMax))
      ->capture_default_str();
  option("--eval-every-seconds", c.eval_every_seconds, "Virtual mode: evaluate every S virtual seconds as well")
      ->check(FiniteRange(0.0, 1e12));
  option("--eval-limit", c.eval_limit, "Evaluate on the first N test images (0: all)")->check(WholeNumber(0, kMax));
  option("--lr-decay-every", c.lr_decay_every,
         "Multiply the server learning rate by --lr-decay every N updates (0: constant) [20000]")
      ->check(WholeNumber(0, kMax));
  option("--max-delay", c.max_delay, "The server refuses pushes more than N updates old")
      ->check(WholeNumber(1, 1000000))
      ->capture_default_str();
  option("--segment-lr", c.segment_lr,
         "Server step multipliers by tensor name prefix, e.g. rnl=2,dense=0.5 (names as in the model summary)");
  option("--clip-norm", c.clip_norm,
         "Workers clip their gradient's l2 norm to this before compressing (0: off) [1 with --staleness plain, else "
         "off]")
      ->check(FiniteRange(0.0, 1e12));
  app.add_flag("--normalise-gradient", c.normalise_gradient,
               "Workers scale each tensor's gradient to unit l2 norm before compressing")
      ->group(g);
  option("--shards", c.shards, "Training data per worker: iid, classes:K (about K labels each) or dirichlet:A")
      ->capture_default_str();
  option("--speed", c.speed,
         "Device compute speed, a multiple of the reference device: V | uniform:LO,HI | two-class:FRAC,FACTOR (FRAC "
         "of the devices FACTOR times slower) | lognormal:MU,SIGMA")
      ->capture_default_str();
  option("--uplink", c.uplink, "Worker to server bandwidth, Mbit/s, same forms (inf: no transfer time)")
      ->capture_default_str();
  option("--downlink", c.downlink, "Server to worker bandwidth, Mbit/s, same forms")->capture_default_str();
  option("--latency", c.latency, "Latency of each message, ms, same forms")->capture_default_str();
  option("--sample-seconds", c.sample_seconds,
         "Compute seconds per training sample on a speed-1 device [the model's single-core time on the reference "
         "machine]")
      ->check(FiniteRange(0.0, 1e6));
  option("--crash-prob", c.crash_prob, "Probability that a worker crashes during a round (its push is lost)")
      ->check(FiniteRange(0.0, 1.0));
  option("--down-time", c.down_time, "Virtual seconds a crashed worker stays down")->check(FiniteRange(0.0, 1e12));
  option("--leave-prob", c.leave_prob, "Probability per round that a worker leaves for good")
      ->check(FiniteRange(0.0, 1.0));
  option("--loss-prob", c.loss_prob, "Probability that a push is lost in transit")->check(FiniteRange(0.0, 1.0));
  option("--availability", c.availability,
         "Virtual mode: a trace of when each worker is on, one 'WORKER START END' interval (virtual seconds) per line")
      ->check(CLI::ExistingFile);
  option("--index-encoding", c.index_encoding, "Wire encoding of push indices: u32 or delta-varint")
      ->check(CLI::IsMember({"u32", "delta-varint"}))
      ->capture_default_str();
  option("--value-encoding", c.value_encoding,
         "Wire encoding of push values: f32, f16 (lossy), sign (lossy), levels (lossy)")
      ->check(CLI::IsMember({"f32", "f16", "sign", "levels"}))
      ->capture_default_str();
  option("--codec-levels", c.codec_levels, "Levels of the levels value encoding")->check(WholeNumber(1, 32767));
  option("--threshold", c.threshold, "threshold compressor: send |g| >= h")->check(FiniteRange(0.0, 1e12));
  option("--qsgd-levels", c.qsgd_levels, "qsgd: quantisation levels s")->check(WholeNumber(1, 32767));
  app.add_flag("--error-feedback", c.error_feedback,
               "Keep the unsent remainder of a sparsifier in a residual memory (needs --staleness plain, "
               "--server-optimizer sgd and a constant learning rate)")
      ->group(g);
  option("--dgc-momentum", c.dgc_momentum, "dgc: momentum correction")->check(FiniteRange(0.0, 0.999999));
  option("--warmup-pushes", c.warmup_pushes, "dgc: pushes over which the ratio falls to --ratio")
      ->check(WholeNumber(0, kMax));
  option("--select-by", c.select_by,
         "topk, adacomp: send the entries of largest |g| (magnitude) or of largest |g| relative to each entry's "
         "running rms on this worker (normalised) [normalised for rnl_deep, rnl_hybrid, cnn_rnl, gelenbe_ff; magnitude "
         "otherwise]")
      ->check(CLI::IsMember({"magnitude", "normalised"}));
  option("--dgc-clip", c.dgc_clip, "dgc: clip each tensor's l2 norm (0: off)")->check(FiniteRange(0.0, 1e12));
  option("--conv-bin", c.conv_bin, "adacomp-ibm: bin length of convolution tensors")->check(WholeNumber(1, 1U << 30U));
  option("--dense-bin", c.dense_bin, "adacomp-ibm: bin length of other tensors")->check(WholeNumber(1, 1U << 30U));
  option("--checkpoint", c.checkpoint,
         "Write the run's whole state here (atomically) at its end, on Ctrl-C, and every --checkpoint-every updates");
  option("--checkpoint-every", c.checkpoint_every, "Virtual mode: a checkpoint every N updates (at evaluation points)")
      ->check(WholeNumber(0, kMax));
  option("--resume", c.resume,
         "Continue the run of this checkpoint (same settings; --max-updates may be larger); virtual mode resumes "
         "bit-identically")
      ->check(CLI::ExistingFile);
  option(
      "--staleness-out", c.staleness_out,
      "Write the run's staleness histogram here (CSV: delay,pushes; every delay from 0 to the largest), counting the "
      "pushes applied by this process (after --resume: since the resume)");
}

// The options that apply to one trainer only.
const std::vector<std::string>& async_only_options() {
  static const std::vector<std::string> names{"--mode",
                                              "--workers",
                                              "--compressor",
                                              "--ratio",
                                              "--staleness",
                                              "--server-optimizer",
                                              "--server-momentum",
                                              "--server-beta1",
                                              "--server-beta2",
                                              "--staleness-scales",
                                              "--server-adam-entry-bias",
                                              "--rnn-weight-step",
                                              "--staleness-power",
                                              "--max-updates",
                                              "--eval-every",
                                              "--eval-every-seconds",
                                              "--eval-limit",
                                              "--lr-decay-every",
                                              "--max-delay",
                                              "--segment-lr",
                                              "--clip-norm",
                                              "--normalise-gradient",
                                              "--shards",
                                              "--speed",
                                              "--uplink",
                                              "--downlink",
                                              "--latency",
                                              "--sample-seconds",
                                              "--crash-prob",
                                              "--down-time",
                                              "--leave-prob",
                                              "--loss-prob",
                                              "--availability",
                                              "--index-encoding",
                                              "--value-encoding",
                                              "--codec-levels",
                                              "--threshold",
                                              "--qsgd-levels",
                                              "--error-feedback",
                                              "--dgc-momentum",
                                              "--warmup-pushes",
                                              "--dgc-clip",
                                              "--select-by",
                                              "--conv-bin",
                                              "--dense-bin",
                                              "--checkpoint",
                                              "--checkpoint-every",
                                              "--resume",
                                              "--staleness-out"};
  return names;
}

namespace {

// An option's value that the library refuses is a command-line error (exit 2), named by option.
template <typename F>
auto parsed(std::string_view option, F&& parse) {
  try {
    return parse();
  } catch (const rnn::Error& e) {
    throw rnn::cli::UsageError(option, e.what());
  }
}

}  // namespace

AsyncOptions make_async_options(const AsyncCli& c, const AsyncCommon& common, const std::string& model_name) {
  AsyncOptions o;
  o.mode = parse_async_mode(c.mode);
  o.workers = c.workers;
  const rnn::AsyncDefaults defaults = rnn::async_defaults(model_name);
  o.batch = common.batch.value_or(defaults.batch);
  o.compressor.name = c.compressor;
  o.compressor.ratio = c.ratio;
  o.compressor.threshold = c.threshold;
  o.compressor.levels = c.qsgd_levels;
  o.compressor.error_feedback = c.error_feedback;
  o.compressor.momentum = c.dgc_momentum;
  o.compressor.warmup_pushes = c.warmup_pushes;
  o.compressor.clip_norm = c.dgc_clip;
  o.compressor.score = c.select_by.value_or(std::string(defaults.select_by));
  o.compressor.conv_bin = c.conv_bin;
  o.compressor.dense_bin = c.dense_bin;
  o.codec.indices = parse_index_encoding(c.index_encoding);
  o.codec.values = parse_value_encoding(c.value_encoding);
  o.codec.levels = c.codec_levels;
  o.server.policy = parse_step_policy(c.staleness.value_or(c.compressor == "adacomp" ? "per-parameter" : "plain"));
  o.server.rule = parse_server_rule(c.server_optimizer.value_or(std::string(defaults.server_optimizer)));
  const bool scaled = o.server.policy != StepPolicy::plain;
  const bool adam = o.server.rule == ServerRule::adam;
  o.server.learning_rate =
      common.lr.value_or(adam ? (scaled ? defaults.adam_scaled_learning_rate : defaults.adam_plain_learning_rate)
                              : (scaled ? defaults.scaled_learning_rate : defaults.plain_learning_rate));
  o.server.momentum = c.server_momentum;
  o.server.beta1 = c.server_beta1;
  o.server.beta2 = c.server_beta2;
  o.server.adam_entry_bias_correction = c.adam_entry_bias;
  // The model's default step scaling goes with its default rule; another rule scales its gradient
  // unless told otherwise.
  const bool default_rule = !c.server_optimizer || *c.server_optimizer == defaults.server_optimizer;
  o.server.scale_rule_step =
      c.staleness_scales ? *c.staleness_scales == "step" : default_rule && defaults.scale_rule_step;
  o.server.nonnegative_map = parse_nonnegative_map(c.nonnegative_map);
  o.server.staleness_power = c.staleness_power;
  o.server.max_delay = c.max_delay;
  if (!c.segment_lr.empty())
    o.server.segment_multipliers = parsed("--segment-lr", [&] { return parse_segment_multipliers(c.segment_lr); });
  o.lr_decay = common.lr_decay.value_or(defaults.lr_decay);
  o.lr_decay_every = c.lr_decay_every.value_or(defaults.lr_decay_every);
  o.max_updates = c.max_updates.value_or(defaults.max_updates);
  o.eval_every = c.eval_every;
  o.eval_every_seconds = c.eval_every_seconds;
  o.eval_limit = c.eval_limit;
  o.threads = static_cast<std::size_t>(common.threads);
  o.seed = common.seed;
  o.shards = parsed("--shards", [&] { return parse_shard_plan(c.shards); });
  o.devices.speed = parsed("--speed", [&] { return parse_distribution(c.speed, DeviceProperty::speed); });
  o.devices.uplink = parsed("--uplink", [&] { return parse_distribution(c.uplink, DeviceProperty::uplink); });
  o.devices.downlink = parsed("--downlink", [&] { return parse_distribution(c.downlink, DeviceProperty::downlink); });
  o.devices.latency = parsed("--latency", [&] { return parse_distribution(c.latency, DeviceProperty::latency); });
  o.devices.sample_seconds = c.sample_seconds.value_or(defaults.sample_seconds);
  o.reliability.crash_prob = c.crash_prob;
  o.reliability.down_time = c.down_time;
  o.reliability.leave_prob = c.leave_prob;
  o.reliability.loss_prob = c.loss_prob;
  o.reliability.availability = c.availability;
  o.shaping.clip_norm = c.clip_norm.value_or(scaled ? 0.0F : defaults.plain_clip_norm);
  o.shaping.normalise_tensors = c.normalise_gradient;
  o.checkpoint = c.checkpoint;
  o.checkpoint_every = c.checkpoint_every;
  o.resume = c.resume;
  o.progress = common.progress;
  parsed("options", [&] {
    check(o);
    return 0;
  });
  return o;
}

int run_async_command(const AsyncCli& c, const AsyncCommon& common, const Model& model, std::vector<float>& params,
                      const DatasetPair& data) {
  AsyncOptions o = make_async_options(c, common, model.name());
  o.stop = &interrupted;
  const bool scaled = o.server.policy != StepPolicy::plain;

  rnn::MetricsRecord settings;
  settings.add("trainer", "async")
      .add("mode", to_string(o.mode))
      .add("model", model.name())
      .add("dataset", common.dataset)
      .add("workers", o.workers)
      .add("batch", o.batch)
      .add("compressor", o.compressor.name)
      .add("ratio", o.compressor.ratio)
      .add("staleness", to_string(o.server.policy))
      .add("server_optimizer", to_string(o.server.rule))
      .add("staleness_scales", o.server.scale_rule_step ? "step" : "gradient")
      .add("select_by", o.compressor.score)
      .add("lr", o.server.learning_rate)
      .add("encoding", encodings(o))
      .add("shards", to_string(o.shards))
      .add("seed", o.seed);
  std::optional<rnn::MetricsWriter> metrics;
  if (!common.out.empty()) metrics.emplace(common.out, settings);
  if (!c.staleness_out.empty()) {
    if (!common.out.empty() && rnn::same_target(common.out, c.staleness_out))
      throw rnn::cli::UsageError("--staleness-out", "names the same file as --out");
    rnn::check_writable(c.staleness_out);
  }
  std::vector<std::uint64_t> delay_counts;  // the whole run's, for --staleness-out
  const bool uses_score = rnn::compressor_info(o.compressor.name).uses(rnn::compressor_option::score);
  const auto print_banner = [&] {
    fmt::print("async {} mode: {} workers, batch {}, {} (ratio {}{}), staleness {}{}, server {} lr {}, {} threads\n",
               to_string(o.mode), o.workers, o.batch, o.compressor.name, o.compressor.ratio,
               uses_score ? ", by " + o.compressor.score : std::string(), to_string(o.server.policy),
               o.server.scale_rule_step && o.server.rule != ServerRule::sgd && scaled ? " on the step" : "",
               to_string(o.server.rule), o.server.learning_rate, o.threads);
  };
  print_banner();
  if (common.dry_run) {
    rnn::check(o, model.layout());  // what run_async checks at its start
    return 0;
  }
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  const AsyncReport report = run_async(model, params, data, o, [&](const EvalPoint& p) {
    if (!p.restored) {
      fmt::print(
          "updates {:>7}  test {:6.2f}%  loss {:.4f}  in {:9.2f} MB  stale {:.1f} (p99 {})  {:8.1f} s virtual  {:6.1f} "
          "s\n",
          p.updates, 100.0 * p.test_accuracy, p.test_loss, static_cast<double>(p.ingress_bytes) / 1e6, p.staleness_mean,
          p.staleness_p99, p.virtual_seconds, p.wall_seconds);
      std::fflush(stdout);
    }
    if (metrics) metrics->write(eval_record(p));
    if (delay_counts.size() < p.delay_counts.size()) delay_counts.resize(p.delay_counts.size(), 0);
    for (std::size_t d = 0; d < p.delay_counts.size(); ++d) delay_counts[d] += p.delay_counts[d];
  });
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  if (!c.staleness_out.empty()) {
    std::string csv = "delay,pushes\n";
    for (std::size_t d = 0; d < delay_counts.size(); ++d) csv += fmt::format("{},{}\n", d, delay_counts[d]);
    rnn::write_file_atomically(c.staleness_out, csv);
  }
  const EvalPoint last = report.points.empty() ? EvalPoint{} : report.points.back();
  fmt::print(
      "summary: {} async {} on {}: test accuracy {:.2f}% after {} updates, {:.2f} MB sent to the server, {:.1f} s "
      "virtual, {:.1f} s wall ({})\n",
      model.name(), o.compressor.name, common.dataset, 100.0 * last.test_accuracy, last.updates,
      static_cast<double>(last.ingress_bytes) / 1e6, last.virtual_seconds, last.wall_seconds, report.message);
  if (report.reason == StopReason::diverged) {
    fmt::print(stderr, "rnnl-train: {} (try a lower --lr)\n", report.message);
    return 1;
  }
  if (report.reason == StopReason::rejected) {
    fmt::print(stderr, "rnnl-train: error: {}\n", report.message);
    return 1;
  }
  return report.reason == StopReason::interrupted ? 130 : 0;
}

}  // namespace rnn::app
