#include "rnn/async/runner.hpp"

#include <cmath>
#include <thread>

#include <fmt/format.h>

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

std::string_view to_string(StopReason reason) {
  switch (reason) {
    case StopReason::max_updates: return "max_updates";
    case StopReason::diverged: return "diverged";
    case StopReason::no_workers: return "no_workers";
    case StopReason::interrupted: return "interrupted";
  }
  return "?";
}

void check(const AsyncOptions& o) {
  if (o.workers == 0) throw Error("at least one worker is needed");
  if (o.workers > (1U << 20U))
    throw Error(fmt::format("{} workers is more than this emulator allows (2^20)", o.workers));
  if (o.batch <= 0) throw Error(fmt::format("batch size must be positive, got {}", o.batch));
  if (o.eval_batch <= 0) throw Error(fmt::format("evaluation batch must be positive, got {}", o.eval_batch));
  if (!(o.lr_decay > 0.0F && o.lr_decay <= 1.0F))
    throw Error(fmt::format("lr decay must be in (0, 1], got {}", o.lr_decay));
  if (!(o.server.learning_rate > 0.0F) || !std::isfinite(o.server.learning_rate))
    throw Error(fmt::format("learning rate must be a positive number, got {}", o.server.learning_rate));
  if (!(o.clip_norm >= 0.0F) || !std::isfinite(o.clip_norm))
    throw Error(fmt::format("clip norm must be finite and ≥ 0, got {}", o.clip_norm));
  if (!(o.eval_every_seconds >= 0.0) || !std::isfinite(o.eval_every_seconds))
    throw Error(fmt::format("evaluation interval must be finite and ≥ 0 seconds, got {}", o.eval_every_seconds));
  if (o.mode == AsyncMode::threads && o.eval_every_seconds > 0.0)
    throw Error("evaluation every virtual seconds needs the virtual mode");
  if (o.mode == AsyncMode::threads && !o.reliability.availability.empty())
    throw Error("availability traces are in virtual time: they need the virtual mode");
  check(o.reliability);
  check_codec_options(o.codec);
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
  // The residual rule (compressor.hpp): a memory that writes off what it delivered needs every
  // delivered value applied in full at one step size.
  const bool constant_step = o.server.policy == StepPolicy::plain && o.server.rule == ServerRule::sgd &&
                             (o.lr_decay_every == 0 || o.lr_decay == 1.0F);
  for (std::size_t w = 0; w < o.workers; ++w) {
    CompressorOptions c = o.compressor;
    c.seed = o.seed;
    c.stream = w;
    auto compressor = make_compressor(c, m.layout());
    if (w == 0) check_step_scale(*compressor, constant_step ? StepScale::constant : StepScale::varying);
    auto encoder = std::make_unique<PushEncoder>(m.layout(), std::move(compressor), o.codec);
    workers.push_back(std::make_unique<Worker>(static_cast<std::uint32_t>(w), shards[w], std::move(encoder), o.seed));
  }
  if (o.progress) bar_.emplace("async", o.max_updates, true);
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
  check(options);
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
