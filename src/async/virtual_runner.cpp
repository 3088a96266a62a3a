// The virtual-time mode: a discrete-event simulation of the workers' rounds, with the rounds'
// gradients computed ahead on a pool of threads.
//
// Why the result does not depend on the pool: events are processed in (time, worker, sequence)
// order by this thread alone, and the only thing computed elsewhere is a round's gradient and push,
// which depend on the version the round fetched and the worker's own state. A round's first event
// (delivery, loss or interruption) cannot come before its lower bound (start + download + compute +
// latency, or the earliest moment an interruption drawn at the start can strike), which is known
// when the round starts; an event from the queue is processed only once every round whose lower
// bound comes before it has been computed and turned into its exact event.
#include <algorithm>
#include <condition_variable>
#include <limits>
#include <mutex>
#include <queue>
#include <set>

#include <fmt/format.h>

#include "evaluation.hpp"
#include "rnn/async/task_pool.hpp"
#include "rnn/core/error.hpp"
#include "rnn/core/execution.hpp"
#include "rnn/core/state_io.hpp"
#include "run_context.hpp"

namespace rnn::async_detail {
namespace {

constexpr double kNever = std::numeric_limits<double>::infinity();

enum class EventKind : std::uint8_t { start, deliver, lost, crash, off, leave, diverge };

struct Event {
  double time = 0.0;
  std::uint32_t worker = 0;
  std::uint64_t sequence = 0;
  EventKind kind = EventKind::start;
  bool push_was_sent = false;  // interruptions: the push's upload had started, so it counts as sent and lost
  bool computed = false;       // the event ends a computed round, whose batch loss is `loss`
  double loss = 0.0;
};

struct Later {
  bool operator()(const Event& a, const Event& b) const {
    if (a.time != b.time) return a.time > b.time;
    if (a.worker != b.worker) return a.worker > b.worker;
    return a.sequence > b.sequence;
  }
};

// The round a worker has in flight (at most one).
struct Round {
  double start = 0.0;
  double download = 0.0;
  double compute = 0.0;
  double leave_fraction = -1.0;  // ≥ 0: the worker leaves at start + fraction · round time
  double crash_fraction = -1.0;  // ≥ 0: it crashes at start + fraction · round time
  bool lost = false;             // the push is lost in transit
  double off_at = kNever;        // its availability interval ends here
  double lower_bound = 0.0;
  SnapshotPtr snapshot;  // until the round is computed
  RoundResult result;
  bool done = false;  // guarded by the runner's mutex
};

class VirtualRun {
 public:
  explicit VirtualRun(RunContext& ctx)
      : ctx_(ctx),
        o_(ctx.options),
        devices_(draw_profiles(o_.devices, o_.workers, o_.seed)),
        availability_(o_.reliability.availability.empty()
                          ? Availability()
                          : Availability::read(o_.reliability.availability, o_.workers)),
        rounds_(o_.workers),
        gone_(o_.workers, false),
        scratch_(ctx.pool_threads()),
        max_live_snapshots_(std::max<std::size_t>(4, 3 * ctx.pool_threads() + 1)),
        model_bytes_(snapshot_bytes(ctx.model.parameter_count())) {
    fates_.reserve(o_.workers);
    for (std::size_t w = 0; w < o_.workers; ++w) fates_.emplace_back(o_.seed, 0xFA7E000000ULL + w);
    for (std::size_t t = 0; t < scratch_.size(); ++t) scratch_[t].workspace = ctx.model.make_workspace();
  }

  void run() {
    TaskPool pool(scratch_.size());
    pool_ = &pool;
    if (!ctx_.resume_payload().empty()) {
      wire::Reader in(ctx_.resume_payload(), "checkpoint");
      ctx_.load_common(in);
      load_state(in);
      if (in.remaining() != 0) throw Error(fmt::format("checkpoint: {} unexpected trailing bytes", in.remaining()));
      run_events();
    } else {
      for (std::uint32_t w = 0; w < o_.workers; ++w) schedule(EventKind::start, 0.0, w);
      if (evaluate(0.0)) {  // the starting point of every curve
        next_eval_time_ = o_.eval_every_seconds;
        run_events();
      }
    }
    // Rounds still queued are not needed any more: they return at once.
    cancelled_ = true;
    pool.wait_idle();
    pool_ = nullptr;
  }

 private:
  void schedule(EventKind kind, double time, std::uint32_t worker) {
    events_.push(Event{time, worker, sequence_++, kind});
  }

  [[nodiscard]] bool before(const Event& e, const std::pair<double, std::uint32_t>& pending) const {
    return e.time != pending.first ? e.time < pending.first : e.worker < pending.second;
  }

  void run_events() {
    if (ctx_.updates() >= o_.max_updates) {  // a resumed run that is already there
      checkpoint();
      return finish(StopReason::max_updates, fmt::format("{} updates", ctx_.updates()));
    }
    for (;;) {
      if (ctx_.stop_requested()) {
        // No evaluation here: the records stay on the schedule an uninterrupted run has, so a run
        // resumed from this checkpoint writes exactly the records it would have written.
        checkpoint();
        return finish(StopReason::interrupted, fmt::format("interrupted at update {}", ctx_.updates()));
      }
      // Turn computed rounds into events until the earliest event is known.
      while (!pending_.empty() && (events_.empty() || !before(events_.top(), *pending_.begin()))) {
        const std::uint32_t w = pending_.begin()->second;
        wait_for(w);
        pending_.erase(pending_.begin());
        resolve(w);
      }
      if (events_.empty()) {
        if (ctx_.changed_since_last_point() && !evaluate(now_)) return;
        checkpoint();
        return finish(StopReason::no_workers, "every worker has left");
      }
      const Event e = events_.top();
      events_.pop();
      while (o_.eval_every_seconds > 0.0 && e.time >= next_eval_time_) {
        if (!evaluate(next_eval_time_)) return;
        next_eval_time_ += o_.eval_every_seconds;
      }
      now_ = e.time;
      if (!process(e)) return;
      ctx_.show_progress(now_);
    }
  }

  // Returns false when the run is over.
  bool process(const Event& e) {
    const std::uint32_t w = e.worker;
    // A round's loss counts when its round ends, in event order (not when it was computed, which
    // depends on the pool), so the metrics' windows are the same on any number of threads.
    if (e.computed) ctx_.metrics.round_computed(e.loss);
    switch (e.kind) {
      case EventKind::deliver: {
        ctx_.metrics.push_sent();
        const PushReceipt receipt = ctx_.transport.push(w, ctx_.workers[w]->push());
        ctx_.metrics.received(receipt);
        if (!ctx_.progressing(receipt)) {
          if (ctx_.changed_since_last_point() && !evaluate(e.time)) return false;
          finish(StopReason::rejected,
                 fmt::format("the server refused {} pushes in a row; the last: {}", 10 * o_.workers, receipt.reason()));
          return false;
        }
        start_round(w, e.time);
        if (receipt.outcome == PushOutcome::applied) {
          ctx_.after_update();
          if (ctx_.update_is_evaluation_point()) {
            if (!evaluate(e.time)) return false;
            if (ctx_.checkpoint_due()) checkpoint();
          }
          if (ctx_.updates() >= o_.max_updates) {
            if (ctx_.changed_since_last_point() && !evaluate(e.time)) return false;
            checkpoint();
            finish(StopReason::max_updates, fmt::format("{} updates", ctx_.updates()));
            return false;
          }
        }
        return true;
      }
      case EventKind::lost:
        ctx_.metrics.push_sent();
        ctx_.metrics.push_lost();
        start_round(w, e.time);
        return true;
      case EventKind::crash:
      case EventKind::off:
        if (e.push_was_sent) {
          ctx_.metrics.push_sent();
          ctx_.metrics.push_lost();
        }
        ctx_.metrics.crashed();
        schedule(EventKind::start,
                 e.kind == EventKind::crash ? e.time + o_.reliability.down_time : availability_.next_on(w, e.time), w);
        return true;
      case EventKind::leave:
        if (e.push_was_sent) {
          ctx_.metrics.push_sent();
          ctx_.metrics.push_lost();
        }
        depart(w);
        return true;
      case EventKind::start: start_round(w, e.time); return true;
      case EventKind::diverge:
        if (evaluate(e.time)) {
          finish(StopReason::diverged,
                 fmt::format("diverged: worker {} computed a non-finite gradient at update {} (virtual time {:.1f} s)",
                             w, ctx_.updates(), e.time));
        }
        return false;
    }
    return true;
  }

  void depart(std::uint32_t w) {
    gone_[w] = true;
    ctx_.metrics.departed();
  }

  void start_round(std::uint32_t w, double t) {
    const double on = availability_.next_on(w, t);
    if (on == kNever) return depart(w);  // its trace never turns it on again
    if (on > t) return schedule(EventKind::start, on, w);
    // Bounded memory: a new copy of the parameters only when fewer than the bound are alive.
    if (ctx_.transport.live_snapshots() >= max_live_snapshots_) {
      std::unique_lock lock(mutex_);
      computed_.wait(lock, [&] { return ctx_.transport.live_snapshots() < max_live_snapshots_; });
    }
    Round& r = rounds_[w];
    r.snapshot = ctx_.transport.fetch(w);
    const DeviceProfile& device = devices_[w];
    r.start = t;
    r.download = download_seconds(device, model_bytes_);
    r.compute = compute_seconds(device, o_.devices, o_.batch);
    r.leave_fraction = r.crash_fraction = -1.0;
    r.lost = false;
    r.off_at = availability_.on_until(w, t);
    const ReliabilityOptions& rel = o_.reliability;
    if (rel.crash_prob > 0.0 || rel.leave_prob > 0.0 || rel.loss_prob > 0.0) {
      // Always five draws, so one worker's stream never depends on which fates struck it before.
      Rng& rng = fates_[w];
      const double leave = rng.uniform();
      const double leave_at = rng.uniform();
      const double crash = rng.uniform();
      const double crash_at = rng.uniform();
      const double loss = rng.uniform();
      if (leave < rel.leave_prob) r.leave_fraction = leave_at;
      if (crash < rel.crash_prob) r.crash_fraction = crash_at;
      r.lost = loss < rel.loss_prob;
    }
    const double shortest = r.download + r.compute + device.latency_seconds;  // upload ≥ latency
    r.lower_bound = std::min(r.start + shortest, r.off_at);
    if (r.leave_fraction >= 0.0) r.lower_bound = std::min(r.lower_bound, r.start + r.leave_fraction * shortest);
    if (r.crash_fraction >= 0.0) r.lower_bound = std::min(r.lower_bound, r.start + r.crash_fraction * shortest);
    {
      std::lock_guard lock(mutex_);
      r.done = false;
    }
    pending_.insert({r.lower_bound, w});
    pool_->submit(r.lower_bound, [this, w](std::size_t thread) { compute(w, thread); });
  }

  void compute(std::uint32_t w, std::size_t thread) {
    Round& r = rounds_[w];
    if (!cancelled_) {
      r.result = ctx_.workers[w]->compute_round(ctx_.model, r.snapshot->parameters, r.snapshot->version,
                                                ctx_.data.train, o_.batch, o_.shaping, scratch_[thread]);
    }
    r.snapshot.reset();
    {
      std::lock_guard lock(mutex_);
      r.done = true;
    }
    computed_.notify_all();
  }

  void wait_for(std::uint32_t w) {
    std::unique_lock lock(mutex_);
    computed_.wait(lock, [&] { return rounds_[w].done; });
  }

  // A computed round becomes its one event: delivery, loss in transit, or an interruption.
  void resolve(std::uint32_t w) {
    const Round& r = rounds_[w];
    const DeviceProfile& device = devices_[w];
    const double upload_start = r.start + r.download + r.compute;
    if (!r.result.finite) return schedule(EventKind::diverge, upload_start, w);
    const double total = r.download + r.compute + upload_seconds(device, r.result.bytes);
    const double arrival = r.start + total;
    EventKind kind = EventKind::deliver;
    double when = arrival;
    const auto consider = [&](EventKind k, double t) {
      if (t < when) {
        kind = k;
        when = t;
      }
    };
    if (r.leave_fraction >= 0.0) consider(EventKind::leave, r.start + r.leave_fraction * total);
    if (r.crash_fraction >= 0.0) consider(EventKind::crash, r.start + r.crash_fraction * total);
    consider(EventKind::off, r.off_at);
    if (kind == EventKind::deliver && r.lost) kind = EventKind::lost;
    events_.push(Event{when, w, sequence_++, kind, when >= upload_start, true, r.result.loss});
  }

  // Every round in flight is computed and turned into its event first, so that the checkpoint holds
  // pushes, not model copies; resolving a round early changes nothing (its event is the same).
  void checkpoint() {
    if (o_.checkpoint.empty()) return;
    while (!pending_.empty()) {
      const std::uint32_t w = pending_.begin()->second;
      wait_for(w);
      pending_.erase(pending_.begin());
      resolve(w);
    }
    std::vector<std::uint8_t> out;
    ctx_.save_common(out);
    save_state(out);
    ctx_.write_checkpoint(out);
  }

  void save_state(std::vector<std::uint8_t>& out) const {
    wire::put_f64(out, now_);
    wire::put_f64(out, next_eval_time_);
    wire::put_u64(out, sequence_);
    for (std::size_t w = 0; w < o_.workers; ++w) {
      wire::put_u8(out, gone_[w] ? 1 : 0);
      wire::put_rng(out, fates_[w]);
    }
    auto events = events_;
    wire::put_u64(out, events.size());
    for (; !events.empty(); events.pop()) {
      const Event& e = events.top();
      wire::put_f64(out, e.time);
      wire::put_u32(out, e.worker);
      wire::put_u64(out, e.sequence);
      wire::put_u8(out, static_cast<std::uint8_t>(e.kind));
      wire::put_u8(out, static_cast<std::uint8_t>((e.push_was_sent ? 1U : 0U) | (e.computed ? 2U : 0U)));
      wire::put_f64(out, e.loss);
    }
  }

  void load_state(wire::Reader& in) {
    now_ = in.f64("virtual time");
    next_eval_time_ = in.f64("next evaluation time");
    sequence_ = in.u64("event sequence");
    for (std::size_t w = 0; w < o_.workers; ++w) {
      const std::uint8_t gone = in.u8("worker presence");
      if (gone > 1) throw Error("checkpoint: bad worker presence flag");
      gone_[w] = gone != 0;
      fates_[w] = wire::get_rng(in, "worker fate stream");
    }
    const std::uint64_t count = in.u64("events");
    if (count > o_.workers) throw Error("checkpoint: more pending events than workers");
    for (std::uint64_t k = 0; k < count; ++k) {
      Event e;
      e.time = in.f64("event time");
      e.worker = in.u32("event worker");
      e.sequence = in.u64("event sequence");
      const std::uint8_t kind = in.u8("event kind");
      const std::uint8_t flags = in.u8("event flags");
      e.loss = in.f64("event loss");
      if (e.worker >= o_.workers || kind > static_cast<std::uint8_t>(EventKind::diverge) || flags > 3 ||
          !(e.time >= now_))
        throw Error("checkpoint: malformed pending event");
      e.kind = static_cast<EventKind>(kind);
      e.push_was_sent = (flags & 1U) != 0;
      e.computed = (flags & 2U) != 0;
      events_.push(e);
    }
  }

  bool evaluate(double t) {
    EvalPoint point = ctx_.begin_point(t);
    const LossSum test = evaluate_on_pool(*pool_, scratch_, ctx_.model, ctx_.server.parameters(), ctx_.data.test,
                                          o_.eval_limit, o_.eval_batch > 0 ? o_.eval_batch : o_.batch);
    if (ctx_.finish_point(point, test)) return true;
    finish(StopReason::diverged, fmt::format("diverged: the test loss is {} at update {} (virtual time {:.1f} s)",
                                             test.mean_loss(), ctx_.updates(), t));
    return false;
  }

  void finish(StopReason reason, std::string message) { ctx_.finish(reason, std::move(message)); }

  RunContext& ctx_;
  const AsyncOptions& o_;
  std::vector<DeviceProfile> devices_;
  Availability availability_;
  std::vector<Rng> fates_;
  std::vector<Round> rounds_;
  std::vector<bool> gone_;
  std::vector<RoundScratch> scratch_;
  std::size_t max_live_snapshots_;
  std::size_t model_bytes_;
  TaskPool* pool_ = nullptr;
  std::priority_queue<Event, std::vector<Event>, Later> events_;
  std::set<std::pair<double, std::uint32_t>> pending_;  // rounds not yet resolved, by lower bound
  std::uint64_t sequence_ = 0;
  double now_ = 0.0;
  double next_eval_time_ = 0.0;
  std::mutex mutex_;
  std::condition_variable computed_;
  std::atomic<bool> cancelled_{false};
};

}  // namespace

void run_virtual(RunContext& ctx) {
  const SingleThreadedKernels single_threaded;  // this thread applies pushes; the pool computes
  VirtualRun run(ctx);
  run.run();
}

}  // namespace rnn::async_detail
