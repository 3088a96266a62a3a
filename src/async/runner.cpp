#include "rnn/async/runner.hpp"

#include <cmath>
#include <thread>

#include <fmt/format.h>

#include "rnn/async/checkpoint.hpp"
#include "rnn/core/error.hpp"
#include "run_context.hpp"

namespace rnn {

AsyncMode parse_async_mode(std::string_view name) {
  if (name == "virtual") return AsyncMode::virtual_time;
  if (name == "threads") return AsyncMode::threads;
  throw Error(fmt::format("unknown mode '{}' (choose virtual or threads)", name));
}

std::string_view to_string(AsyncMode mode) {
  return mode == AsyncMode::virtual_time ? "virtual" : "threads";
}

MetricsRecord eval_record(const EvalPoint& p) {
  MetricsRecord r;
  r.add("updates", p.updates)
      .add("virtual_seconds", p.virtual_seconds)
      .add("wall_seconds", p.wall_seconds)
      .add("ingress_bytes", p.ingress_bytes)
      .add("egress_bytes", p.egress_bytes)
      .add("test_accuracy", p.test_accuracy)
      .add("test_loss", p.test_loss)
      .add("train_loss", p.train_loss)
      .add("learning_rate", p.learning_rate)
      .add("staleness_mean", p.staleness_mean)
      .add("staleness_p50", p.staleness_p50)
      .add("staleness_p99", p.staleness_p99)
      .add("staleness_max", p.staleness_max)
      .add("tau_mean", p.tau_mean)
      .add("pushes_sent", p.pushes_sent)
      .add("pushes_applied", p.pushes_applied)
      .add("pushes_lost", p.pushes_lost)
      .add("pushes_rejected", p.pushes_rejected)
      .add("rejected_malformed", p.rejected_malformed)
      .add("rejected_non_finite", p.rejected_non_finite)
      .add("rejected_from_the_future", p.rejected_from_the_future)
      .add("rejected_too_stale", p.rejected_too_stale)
      .add("crashes", p.crashes)
      .add("departures", p.departures)
      .add("workers_active", p.workers_active);
  return r;
}

std::string_view to_string(StopReason reason) {
  switch (reason) {
    case StopReason::max_updates: return "max_updates";
    case StopReason::diverged: return "diverged";
    case StopReason::no_workers: return "no_workers";
    case StopReason::interrupted: return "interrupted";
    case StopReason::rejected: return "rejected";
  }
  return "?";
}

void check(const AsyncOptions& o) {
  if (o.workers == 0) throw Error("at least one worker is needed");
  if (o.workers > (1U << 20U))
    throw Error(fmt::format("{} workers is more than this emulator allows (2^20)", o.workers));
  if (o.batch <= 0) throw Error(fmt::format("batch size must be positive, got {}", o.batch));
  if (o.eval_batch < 0)
    throw Error(fmt::format("evaluation batch must be positive (or 0: the workers' batch), got {}", o.eval_batch));
  if (!(o.lr_decay > 0.0F && o.lr_decay <= 1.0F))
    throw Error(fmt::format("lr decay must be in (0, 1], got {}", o.lr_decay));
  if (!(o.server.learning_rate > 0.0F) || !std::isfinite(o.server.learning_rate))
    throw Error(fmt::format("learning rate must be a positive number, got {}", o.server.learning_rate));
  if (!(o.shaping.clip_norm >= 0.0F) || !std::isfinite(o.shaping.clip_norm))
    throw Error(fmt::format("clip norm must be finite and ≥ 0, got {}", o.shaping.clip_norm));
  if (!(o.eval_every_seconds >= 0.0) || !std::isfinite(o.eval_every_seconds))
    throw Error(fmt::format("evaluation interval must be finite and ≥ 0 seconds, got {}", o.eval_every_seconds));
  if (o.mode == AsyncMode::threads && o.eval_every_seconds > 0.0)
    throw Error("evaluation every virtual seconds needs the virtual mode");
  if (o.mode == AsyncMode::threads && o.checkpoint_every > 0)
    throw Error("periodic checkpoints need the virtual mode (the threads mode writes one when it stops)");
  if (o.checkpoint_every > 0 && o.checkpoint.empty()) throw Error("a checkpoint interval needs a checkpoint file");
  if (o.mode == AsyncMode::threads && !o.reliability.availability.empty())
    throw Error("availability traces are in virtual time: they need the virtual mode");
  check(o.reliability);
  check_codec_options(o.codec);
}

namespace {

// The residual rule (compressor.hpp): a memory that writes off what it delivered needs every
// delivered value applied in full at one step size.
StepScale server_step_scale(const AsyncOptions& o) {
  const bool constant = o.server.policy == StepPolicy::plain && o.server.rule == ServerRule::sgd &&
                        (o.lr_decay_every == 0 || o.lr_decay == 1.0F);
  return constant ? StepScale::constant : StepScale::varying;
}

}  // namespace

void check(const AsyncOptions& o, const ParameterLayout& layout) {
  check(o);
  CompressorOptions c = o.compressor;
  c.seed = o.seed;
  check_step_scale(*make_compressor(c, layout), server_step_scale(o));
}

std::string run_settings(const AsyncOptions& o, const Model& model, std::size_t samples) {
  std::string s;
  const auto add = [&](std::string_view key, const auto& value) { s += fmt::format("{}={};", key, value); };
  add("model", model.name());
  add("layers", model.summary());
  add("train_samples", samples);
  add("mode", to_string(o.mode));
  add("workers", o.workers);
  add("batch", o.batch);
  const CompressorOptions& c = o.compressor;
  add("compressor", c.name);
  add("ratio", c.ratio);
  add("threshold", c.threshold);
  add("qsgd_levels", c.levels);
  add("qsgd_bucket", c.bucket);
  add("terngrad_clip", c.clip_stddev);
  add("error_feedback", c.error_feedback);
  add("dgc_momentum", c.momentum);
  add("warmup_pushes", c.warmup_pushes);
  add("dgc_clip", c.clip_norm);
  add("score", c.score);
  add("bins", fmt::format("{},{}", c.conv_bin, c.dense_bin));
  add("codec", fmt::format("{}/{}/{}", to_string(o.codec.indices), to_string(o.codec.values), o.codec.levels));
  const ServerOptions& v = o.server;
  add("staleness", to_string(v.policy));
  add("server_optimizer", to_string(v.rule));
  add("lr", v.learning_rate);
  add("server_momentum", v.momentum);
  add("adam", fmt::format("{},{},{},{}", v.beta1, v.beta2, v.epsilon, v.adam_entry_bias_correction));
  add("max_delay", v.max_delay);
  std::string multipliers;
  for (const auto& [prefix, value] : v.segment_multipliers) multipliers += fmt::format("{}={},", prefix, value);
  add("segment_lr", multipliers);
  add("lr_decay", fmt::format("{}/{}", o.lr_decay, o.lr_decay_every));
  add("seed", o.seed);
  add("shards", to_string(o.shards));
  add("devices", fmt::format("{}|{}|{}|{}|{}", o.devices.speed.spec, o.devices.uplink.spec, o.devices.downlink.spec,
                             o.devices.latency.spec, o.devices.sample_seconds));
  const ReliabilityOptions& r = o.reliability;
  add("reliability",
      fmt::format("{}|{}|{}|{}|{}", r.crash_prob, r.down_time, r.leave_prob, r.loss_prob, r.availability.string()));
  add("clip_norm", o.shaping.clip_norm);
  add("normalise_tensors", o.shaping.normalise_tensors);
  add("staleness_scales", v.scale_rule_step ? "step" : "gradient");
  add("staleness_power", v.staleness_power);
  add("rnn_weight_step", to_string(v.nonnegative_map));
  return s;
}

namespace async_detail {

RunContext::RunContext(const Model& m, std::vector<float> initial, const DatasetPair& d, const AsyncOptions& o,
                       const std::function<void(const EvalPoint&)>& on_eval)
    : model(m),
      data(d),
      options(o),
      server(m.layout(), std::move(initial), o.server),
      transport(server),
      on_eval_(on_eval),
      base_learning_rate_(o.server.learning_rate),
      started_(std::chrono::steady_clock::now()) {
  const auto shards = make_shards(d.train.labels, d.train.classes, o.workers, o.shards, o.seed);
  workers.reserve(o.workers);
  for (std::size_t w = 0; w < o.workers; ++w) {
    CompressorOptions c = o.compressor;
    c.seed = o.seed;
    c.stream = w;
    auto compressor = make_compressor(c, m.layout());
    auto encoder = std::make_unique<PushEncoder>(m.layout(), std::move(compressor), o.codec);
    workers.push_back(std::make_unique<Worker>(static_cast<std::uint32_t>(w), shards[w], std::move(encoder), o.seed));
  }
  settings_ = run_settings(o, m, d.train.size());
  if (!o.resume.empty()) resume_payload_ = read_checkpoint(o.resume, settings_);
  if (o.progress) bar_.emplace("async", o.max_updates, true);
}

namespace {

void put_point(std::vector<std::uint8_t>& out, const EvalPoint& p) {
  for (const std::uint64_t n :
       {p.updates, p.ingress_bytes, p.egress_bytes, p.staleness_p50, p.staleness_p99, p.staleness_max, p.pushes_sent,
        p.pushes_applied, p.pushes_lost, p.pushes_rejected, p.rejected_malformed, p.rejected_non_finite,
        p.rejected_from_the_future, p.rejected_too_stale, p.crashes, p.departures, p.workers_active})
    wire::put_u64(out, n);
  for (const double x : {p.virtual_seconds, p.wall_seconds, p.test_accuracy, p.test_loss, p.train_loss, p.learning_rate,
                         p.staleness_mean, p.tau_mean})
    wire::put_f64(out, x);
}

EvalPoint get_point(wire::Reader& in) {
  EvalPoint p;
  for (std::uint64_t* n : {&p.updates, &p.ingress_bytes, &p.egress_bytes, &p.staleness_p50, &p.staleness_p99,
                           &p.staleness_max, &p.pushes_sent, &p.pushes_applied, &p.pushes_lost, &p.pushes_rejected,
                           &p.rejected_malformed, &p.rejected_non_finite, &p.rejected_from_the_future,
                           &p.rejected_too_stale, &p.crashes, &p.departures, &p.workers_active})
    *n = in.u64("evaluation point");
  for (double* x : {&p.virtual_seconds, &p.wall_seconds, &p.test_accuracy, &p.test_loss, &p.train_loss,
                    &p.learning_rate, &p.staleness_mean, &p.tau_mean})
    *x = in.f64("evaluation point");
  p.restored = true;
  return p;
}

}  // namespace

void RunContext::save_common(std::vector<std::uint8_t>& out) const {
  server.save_state(out);
  wire::put_u64(out, transport.egress_bytes());
  for (const auto& w : workers) w->save_state(out);
  metrics.save_state(out);
  wire::put_u64(out, report.points.size());
  for (const EvalPoint& p : report.points) put_point(out, p);
  // Wall time goes on from where it was.
  const EvalPoint* last = report.points.empty() ? nullptr : &report.points.back();
  wire::put_f64(out, last ? last->wall_seconds : 0.0);
}

void RunContext::load_common(wire::Reader& in) {
  server.load_state(in);
  transport.restore_egress_bytes(in.u64("egress bytes"));
  for (const auto& w : workers) w->load_state(in);
  metrics.load_state(in);
  const std::uint64_t points = in.u64("evaluation points");
  if (points > in.remaining() / 200) throw Error("checkpoint: more evaluation points than the file holds");
  report.points.clear();
  for (std::uint64_t i = 0; i < points; ++i) report.points.push_back(get_point(in));
  const double wall = in.f64("wall seconds");
  started_ -= std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(wall));
  for (const EvalPoint& p : report.points)
    if (on_eval_) on_eval_(p);
}

bool RunContext::checkpoint_due() const {
  return !options.checkpoint.empty() && options.checkpoint_every > 0 && updates() % options.checkpoint_every == 0;
}

void RunContext::write_checkpoint(std::span<const std::uint8_t> payload) const {
  rnn::write_checkpoint(options.checkpoint, settings_, payload);
}

std::size_t RunContext::pool_threads() const {
  if (options.threads > 0) return options.threads;
  return std::max(1U, std::thread::hardware_concurrency());
}

void RunContext::after_update() {
  if (options.lr_decay_every == 0 || options.lr_decay == 1.0F) return;
  if (updates() % options.lr_decay_every != 0) return;
  const auto steps = static_cast<double>(updates() / options.lr_decay_every);
  server.set_learning_rate(static_cast<float>(base_learning_rate_ * std::pow(options.lr_decay, steps)));
}

bool RunContext::progressing(const PushReceipt& receipt) {
  if (receipt.applied()) {
    refused_in_a_row_ = 0;
    return true;
  }
  return ++refused_in_a_row_ < 10 * static_cast<std::uint64_t>(workers.size());
}

bool RunContext::update_is_evaluation_point() const {
  return options.eval_every > 0 && updates() % options.eval_every == 0;
}

EvalPoint RunContext::begin_point(double virtual_seconds) {
  EvalPoint p;
  p.updates = updates();
  p.virtual_seconds = virtual_seconds;
  p.ingress_bytes = server.counters().ingress_bytes;
  p.egress_bytes = transport.egress_bytes();
  p.learning_rate = server.learning_rate();
  metrics.close_window(server.counters(), workers.size(), p);
  return p;
}

bool RunContext::changed_since_last_point() const {
  if (report.points.empty()) return true;
  const EvalPoint& last = report.points.back();
  return last.updates != updates() || last.pushes_sent != metrics.sent() || last.departures != metrics.departures() ||
         last.crashes != metrics.crashes();
}

bool RunContext::finish_point(EvalPoint& p, const LossSum& test) {
  p.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  p.test_accuracy = test.accuracy();
  p.test_loss = test.mean_loss();
  report.points.push_back(p);
  if (bar_) bar_->finish();  // the record's line (if the caller prints one) starts on a clean line
  if (on_eval_) on_eval_(p);
  if (options.progress) bar_.emplace("async", options.max_updates, true);
  return std::isfinite(p.test_loss);
}

void RunContext::show_progress(double virtual_seconds) {
  if (!bar_ || !bar_->due(updates())) return;
  const EvalPoint* last = report.points.empty() ? nullptr : &report.points.back();
  bar_->update(updates(), fmt::format("{} updates, {:.1f} MB in, {:.0f} s virtual{}", updates(),
                                      static_cast<double>(server.counters().ingress_bytes) / 1e6, virtual_seconds,
                                      last ? fmt::format(", test {:.2f}%", 100.0 * last->test_accuracy) : ""));
}

void RunContext::finish(StopReason reason, std::string message) {
  if (bar_) bar_->finish();
  report.reason = reason;
  report.message = std::move(message);
}

}  // namespace async_detail

AsyncReport run_async(const Model& model, std::vector<float>& params, const DatasetPair& data,
                      const AsyncOptions& options, const std::function<void(const EvalPoint&)>& on_eval) {
  check(options, model.layout());
  if (params.size() != model.parameter_count())
    throw Error(
        fmt::format("{} parameters given for model {} of {}", params.size(), model.name(), model.parameter_count()));
  if (data.train.shape.size() != model.input_shape().size() || data.test.shape.size() != model.input_shape().size())
    throw Error(fmt::format("images have {} values, model {} expects {}", data.train.shape.size(), model.name(),
                            model.input_shape().size()));
  const auto classes = static_cast<std::size_t>(model.output_shape().size());
  for (const Dataset* set : {&data.train, &data.test})
    for (const std::uint8_t label : set->labels)
      if (label >= classes)
        throw Error(fmt::format("label {} is not a class of model {} ({} outputs)", label, model.name(), classes));
  async_detail::RunContext ctx(model, params, data, options, on_eval);
  if (options.mode == AsyncMode::virtual_time) {
    async_detail::run_virtual(ctx);
  } else {
    async_detail::run_threads(ctx);
  }
  const auto final_params = ctx.server.parameters();
  params.assign(final_params.begin(), final_params.end());
  return std::move(ctx.report);
}

}  // namespace rnn
