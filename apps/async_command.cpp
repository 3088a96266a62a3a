#include "async_command.hpp"

#include <csignal>
#include <cstdio>
#include <fstream>

#include <fmt/format.h>

#include "rnn/async/runner.hpp"
#include "rnn/core/error.hpp"

namespace rnn::app {
namespace {

std::atomic<bool> interrupted{false};

extern "C" void on_signal(int /*signal*/) {
  interrupted.store(true);
}

// The server learning rate when --lr is not given: plain SGD on the server, per model family.
float default_async_lr(const std::string& model) {
  if (model == "cnn" || model == "mlp") return 0.05F;
  return 0.5F;
}

std::string encodings(const AsyncOptions& o) {
  return fmt::format("{}/{}", to_string(o.codec.indices), to_string(o.codec.values));
}

// The record of one evaluation point: the run's settings, then its measurements.
std::vector<std::pair<std::string, std::string>> fields(const EvalPoint& p) {
  return {{"updates", fmt::format("{}", p.updates)},
          {"virtual_seconds", fmt::format("{:.6f}", p.virtual_seconds)},
          {"wall_seconds", fmt::format("{:.3f}", p.wall_seconds)},
          {"ingress_bytes", fmt::format("{}", p.ingress_bytes)},
          {"egress_bytes", fmt::format("{}", p.egress_bytes)},
          {"test_accuracy", fmt::format("{:.6f}", p.test_accuracy)},
          {"test_loss", fmt::format("{:.6f}", p.test_loss)},
          {"train_loss", fmt::format("{:.6f}", p.train_loss)},
          {"learning_rate", fmt::format("{:.6g}", p.learning_rate)},
          {"staleness_mean", fmt::format("{:.4f}", p.staleness_mean)},
          {"staleness_p50", fmt::format("{}", p.staleness_p50)},
          {"staleness_p99", fmt::format("{}", p.staleness_p99)},
          {"staleness_max", fmt::format("{}", p.staleness_max)},
          {"tau_mean", fmt::format("{:.4f}", p.tau_mean)},
          {"pushes_sent", fmt::format("{}", p.pushes_sent)},
          {"pushes_applied", fmt::format("{}", p.pushes_applied)},
          {"pushes_lost", fmt::format("{}", p.pushes_lost)},
          {"pushes_rejected", fmt::format("{}", p.pushes_rejected)},
          {"crashes", fmt::format("{}", p.crashes)},
          {"departures", fmt::format("{}", p.departures)}};
}

}  // namespace

void add_async_options(CLI::App& app, AsyncCli& c) {
  const std::string g = "Asynchronous training (--trainer async)";
  app.add_option("--mode", c.mode, "virtual: discrete-event simulation, bit-reproducible; threads: real concurrency")
      ->check(CLI::IsMember({"virtual", "threads"}))
      ->capture_default_str()
      ->group(g);
  app.add_option("--workers", c.workers, "Emulated workers")
      ->check(CLI::Range(1, 1 << 20))
      ->capture_default_str()
      ->group(g);
  app.add_option("--compressor", c.compressor, "Update compressor (none = dense ASGD)")
      ->capture_default_str()
      ->group(g);
  app.add_option("--ratio", c.ratio, "Fraction c of each tensor a sparsifier sends")->capture_default_str()->group(g);
  app.add_option("--staleness", c.staleness,
                 "Server step scaling: plain, global (1/τ) or per-parameter (1/τ_i) [per-parameter for adacomp, "
                 "plain otherwise]")
      ->check(CLI::IsMember({"plain", "global", "per-parameter"}))
      ->group(g);
  app.add_option("--server-optimizer", c.server_optimizer, "Update rule at the server: sgd, momentum or adam")
      ->check(CLI::IsMember({"sgd", "momentum", "adam"}))
      ->capture_default_str()
      ->group(g);
  app.add_option("--max-updates", c.max_updates, "Stop after this many applied pushes")
      ->capture_default_str()
      ->group(g);
  app.add_option("--eval-every", c.eval_every, "Evaluate every N updates (0: at the end only)")
      ->capture_default_str()
      ->group(g);
  app.add_option("--eval-every-seconds", c.eval_every_seconds, "Evaluate every S virtual seconds instead")->group(g);
  app.add_option("--eval-limit", c.eval_limit, "Evaluate on the first N test images (0: all)")->group(g);
  app.add_option("--lr-decay-every", c.lr_decay_every,
                 "Multiply the server learning rate by --lr-decay every N updates")
      ->group(g);
  app.add_option("--max-delay", c.max_delay, "Refuse pushes more than N updates stale")
      ->capture_default_str()
      ->group(g);
  app.add_option("--segment-lr", c.segment_lr, "Step multipliers by tensor name prefix, e.g. rnl=2,dense=1")->group(g);
  app.add_option("--clip-norm", c.clip_norm, "Workers clip their gradient's l2 norm to this (0: off)")->group(g);
  app.add_option("--shards", c.shards, "Data split: iid, classes:K or dirichlet:A")->capture_default_str()->group(g);
  app.add_option("--speed", c.speed, "Device speed: V | uniform:LO,HI | two-class:FRAC,FACTOR | lognormal:MU,SIGMA")
      ->capture_default_str()
      ->group(g);
  app.add_option("--uplink", c.uplink, "Uplink Mbit/s (same forms; inf: no transfer time)")
      ->capture_default_str()
      ->group(g);
  app.add_option("--downlink", c.downlink, "Downlink Mbit/s (same forms)")->capture_default_str()->group(g);
  app.add_option("--latency", c.latency, "Latency per message, ms (same forms)")->capture_default_str()->group(g);
  app.add_option("--sample-seconds", c.sample_seconds, "Compute seconds per training sample on a speed-1 device")
      ->group(g);
  app.add_option("--crash-prob", c.crash_prob, "Probability that a worker crashes during a round")->group(g);
  app.add_option("--down-time", c.down_time, "Virtual seconds a crashed worker stays down")->group(g);
  app.add_option("--leave-prob", c.leave_prob, "Probability per round that a worker leaves for good")->group(g);
  app.add_option("--loss-prob", c.loss_prob, "Probability that a push is lost in transit")->group(g);
  app.add_option("--availability", c.availability, "Trace of on-intervals per worker (lines: WORKER START END)")
      ->check(CLI::ExistingFile)
      ->group(g);
  app.add_option("--index-encoding", c.index_encoding, "Push indices: u32 or delta-varint")
      ->check(CLI::IsMember({"u32", "delta-varint"}))
      ->capture_default_str()
      ->group(g);
  app.add_option("--value-encoding", c.value_encoding, "Push values: f32, f16, sign or levels")
      ->check(CLI::IsMember({"f32", "f16", "sign", "levels"}))
      ->capture_default_str()
      ->group(g);
  app.add_option("--codec-levels", c.codec_levels, "Levels of the levels value encoding")->group(g);
  app.add_option("--threshold", c.threshold, "threshold compressor: send |g| >= h")->group(g);
  app.add_option("--qsgd-levels", c.qsgd_levels, "qsgd: quantisation levels s")->group(g);
  app.add_flag("--error-feedback", c.error_feedback, "Keep the unsent remainder of a sparsifier (residual memory)")
      ->group(g);
  app.add_option("--dgc-momentum", c.dgc_momentum, "dgc: momentum correction")->group(g);
  app.add_option("--warmup-pushes", c.warmup_pushes, "dgc: pushes over which the ratio falls to --ratio")->group(g);
  app.add_option("--dgc-clip", c.dgc_clip, "dgc: clip each tensor's l2 norm (0: off)")->group(g);
  app.add_option("--conv-bin", c.conv_bin, "adacomp-ibm: bin length of convolution tensors")->group(g);
  app.add_option("--dense-bin", c.dense_bin, "adacomp-ibm: bin length of other tensors")->group(g);
}

int run_async_command(const AsyncCli& c, const AsyncCommon& common, const Model& model, std::vector<float>& params,
                      const DatasetPair& data) {
  AsyncOptions o;
  o.mode = parse_async_mode(c.mode);
  o.workers = c.workers;
  o.batch = common.batch.value_or(10);
  o.compressor.name = c.compressor;
  o.compressor.ratio = c.ratio;
  o.compressor.threshold = c.threshold;
  o.compressor.levels = c.qsgd_levels;
  o.compressor.error_feedback = c.error_feedback;
  o.compressor.momentum = c.dgc_momentum;
  o.compressor.warmup_pushes = c.warmup_pushes;
  o.compressor.clip_norm = c.dgc_clip;
  o.compressor.conv_bin = c.conv_bin;
  o.compressor.dense_bin = c.dense_bin;
  o.codec.indices = parse_index_encoding(c.index_encoding);
  o.codec.values = parse_value_encoding(c.value_encoding);
  o.codec.levels = c.codec_levels;
  o.server.policy = parse_step_policy(c.staleness.value_or(c.compressor == "adacomp" ? "per-parameter" : "plain"));
  o.server.rule = parse_server_rule(c.server_optimizer);
  o.server.learning_rate = common.lr.value_or(default_async_lr(model.name()));
  o.server.momentum = common.momentum;
  o.server.max_delay = c.max_delay;
  if (!c.segment_lr.empty()) o.server.segment_multipliers = parse_segment_multipliers(c.segment_lr);
  o.lr_decay = common.lr_decay.value_or(1.0F);
  o.lr_decay_every = c.lr_decay_every;
  o.max_updates = c.max_updates;
  o.eval_every = c.eval_every;
  o.eval_every_seconds = c.eval_every_seconds;
  o.eval_limit = c.eval_limit;
  o.threads = static_cast<std::size_t>(common.threads);
  o.seed = common.seed;
  o.shards = parse_shard_plan(c.shards);
  o.devices.speed = parse_distribution(c.speed, DeviceProperty::speed);
  o.devices.uplink = parse_distribution(c.uplink, DeviceProperty::uplink);
  o.devices.downlink = parse_distribution(c.downlink, DeviceProperty::downlink);
  o.devices.latency = parse_distribution(c.latency, DeviceProperty::latency);
  if (c.sample_seconds) o.devices.sample_seconds = *c.sample_seconds;
  o.reliability.crash_prob = c.crash_prob;
  o.reliability.down_time = c.down_time;
  o.reliability.leave_prob = c.leave_prob;
  o.reliability.loss_prob = c.loss_prob;
  o.reliability.availability = c.availability;
  o.clip_norm = c.clip_norm;
  o.progress = common.progress;
  o.stop = &interrupted;
  check(o);

  const std::vector<std::pair<std::string, std::string>> settings{
      {"trainer", "async"},
      {"mode", std::string(to_string(o.mode))},
      {"model", model.name()},
      {"dataset", common.dataset},
      {"workers", std::to_string(o.workers)},
      {"batch", std::to_string(o.batch)},
      {"compressor", o.compressor.name},
      {"ratio", fmt::format("{}", o.compressor.ratio)},
      {"staleness", std::string(to_string(o.server.policy))},
      {"server_optimizer", std::string(to_string(o.server.rule))},
      {"lr", fmt::format("{}", o.server.learning_rate)},
      {"encoding", encodings(o)},
      {"shards", to_string(o.shards)},
      {"seed", std::to_string(o.seed)}};
  std::ofstream out;
  bool header_written = false;
  const bool csv = !common.out.empty() && common.out.ends_with(".csv");
  if (!common.out.empty()) {
    out.open(common.out, std::ios::trunc);
    if (!out) throw Error(fmt::format("{}: cannot open for writing", common.out));
  }
  fmt::print("async {} mode: {} workers, batch {}, {} (ratio {}), staleness {}, server {} lr {}, {} threads\n",
             to_string(o.mode), o.workers, o.batch, o.compressor.name, o.compressor.ratio, to_string(o.server.policy),
             to_string(o.server.rule), o.server.learning_rate, o.threads);
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  const AsyncReport report = run_async(model, params, data, o, [&](const EvalPoint& p) {
    fmt::print(
        "updates {:>7}  test {:6.2f}%  loss {:.4f}  in {:9.2f} MB  stale {:.1f} (p99 {})  {:8.1f} s virtual  {:6.1f} "
        "s\n",
        p.updates, 100.0 * p.test_accuracy, p.test_loss, static_cast<double>(p.ingress_bytes) / 1e6, p.staleness_mean,
        p.staleness_p99, p.virtual_seconds, p.wall_seconds);
    std::fflush(stdout);
    if (!out.is_open()) return;
    const auto f = fields(p);
    if (csv) {
      if (!header_written) {
        std::string header;
        for (const auto& [k, v] : settings) header += k + ",";
        for (std::size_t i = 0; i < f.size(); ++i) header += (i == 0 ? "" : ",") + f[i].first;
        out << header << "\n";
        header_written = true;
      }
      std::string line;
      for (const auto& [k, v] : settings) line += v + ",";
      for (std::size_t i = 0; i < f.size(); ++i) line += (i == 0 ? "" : ",") + f[i].second;
      out << line << "\n";
    } else {
      std::string line = "{";
      for (const auto& [k, v] : settings) line += fmt::format("\"{}\":\"{}\",", k, v);
      for (std::size_t i = 0; i < f.size(); ++i)
        line += fmt::format("{}\"{}\":{}", i == 0 ? "" : ",", f[i].first, f[i].second);
      out << line << "}\n";
    }
    out.flush();
  });
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
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
