// The threads mode: the workers' rounds run concurrently on a pool of threads against the server.
// Each worker fetches right after its push has gone (as a device would), then waits in a queue
// for a thread; the thread computes its round at the fetched snapshot and pushes. This thread
// evaluates snapshots as the server passes each evaluation point. Device times are not emulated:
// a round takes what it takes.
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "evaluation.hpp"
#include "rnn/core/error.hpp"
#include "rnn/core/execution.hpp"
#include "run_context.hpp"

namespace rnn::async_detail {
namespace {

struct Ready {
  std::uint32_t worker = 0;
  SnapshotPtr snapshot;
};

class ThreadsRun {
 public:
  explicit ThreadsRun(RunContext& ctx) : ctx_(ctx), o_(ctx.options) {
    fates_.reserve(o_.workers);
    for (std::size_t w = 0; w < o_.workers; ++w) fates_.emplace_back(o_.seed, 0xFA7E000000ULL + w);
  }

  void run() {
    RoundScratch evaluation;
    evaluation.workspace = ctx_.model.make_workspace();
    if (!ctx_.resume_payload().empty()) {
      wire::Reader in(ctx_.resume_payload(), "checkpoint");
      ctx_.load_common(in);
      if (in.remaining() != 0) throw Error(fmt::format("checkpoint: {} unexpected trailing bytes", in.remaining()));
    } else if (!evaluate(evaluation)) {
      return;
    }
    for (std::uint32_t w = 0; w < o_.workers; ++w) queue_.push_back({w, ctx_.transport.fetch(w)});
    std::vector<std::thread> threads;
    for (std::size_t t = 0; t < ctx_.pool_threads(); ++t) threads.emplace_back([this] { work(); });
    std::uint64_t next_point = o_.eval_every > 0 ? (ctx_.updates() / o_.eval_every + 1) * o_.eval_every : 0;
    {
      std::unique_lock lock(mutex_);
      for (;;) {
        changed_.wait(lock, [&] { return over_ || (o_.eval_every > 0 && ctx_.updates() >= next_point); });
        if (over_) break;
        const std::uint64_t version = ctx_.updates();
        if (!evaluate_locked(lock, evaluation)) break;
        while (next_point <= version) next_point += o_.eval_every;
      }
      over_ = true;
    }
    work_.notify_all();
    for (auto& t : threads) t.join();
    if (!diverged_ && reason_ != StopReason::interrupted && ctx_.changed_since_last_point()) evaluate(evaluation);
    // The rounds still queued are dropped: a resumed run's workers fetch afresh.
    if (!diverged_ && !o_.checkpoint.empty()) {
      std::vector<std::uint8_t> out;
      ctx_.save_common(out);
      ctx_.write_checkpoint(out);
    }
    if (ctx_.report.message.empty()) ctx_.finish(reason_, message_);
  }

 private:
  // The worker threads' loop.
  void work() {
    const SingleThreadedKernels single_threaded;
    RoundScratch scratch;
    scratch.workspace = ctx_.model.make_workspace();
    std::unique_lock lock(mutex_);
    for (;;) {
      work_.wait(lock, [&] { return over_ || !queue_.empty(); });
      if (over_) return;
      Ready ready = std::move(queue_.front());
      queue_.pop_front();
      const std::uint32_t w = ready.worker;
      // Fates are drawn in the worker's own stream (the same draws as the virtual mode).
      bool leaves = false;
      bool crashes = false;
      bool lost = false;
      draw_fates(w, leaves, crashes, lost);
      lock.unlock();
      const RoundResult result =
          ctx_.workers[w]->compute_round(ctx_.model, ready.snapshot->parameters, ready.snapshot->version,
                                         ctx_.data.train, o_.batch, o_.shaping, scratch);
      ready.snapshot.reset();
      PushReceipt receipt;
      const bool delivered = result.finite && !leaves && !crashes && !lost;
      lock.lock();  // pushes apply under the run's lock, so an evaluation point sees counters and state together
      if (over_) return;
      if (delivered) receipt = ctx_.transport.push(w, ctx_.workers[w]->push());
      SnapshotPtr next;
      if (!leaves) next = ctx_.transport.fetch(w);
      if (!result.finite) {
        stop(StopReason::diverged,
             fmt::format("diverged: worker {} computed a non-finite gradient near update {}", w, ctx_.updates()));
        diverged_ = true;
        return;
      }
      ctx_.metrics.round_computed(result.loss);
      // A crash or departure strikes somewhere in the round: the push counts as sent (and lost) in
      // the same share of cases as in the virtual mode would need device times; here: always lost.
      if (leaves || crashes || lost) {
        ctx_.metrics.push_sent();
        ctx_.metrics.push_lost();
      }
      if (crashes) ctx_.metrics.crashed();
      if (leaves) {
        ctx_.metrics.departed();
        if (ctx_.metrics.departures() == o_.workers) stop(StopReason::no_workers, "every worker has left");
      } else {
        queue_.push_back({w, std::move(next)});
        work_.notify_one();
      }
      if (delivered) {
        ctx_.metrics.push_sent();
        ctx_.metrics.received(receipt);
        if (!ctx_.progressing(receipt))
          stop(StopReason::rejected,
               fmt::format("the server refused {} pushes in a row; the last: {}", 10 * o_.workers, receipt.reason()));
        if (receipt.outcome == PushOutcome::applied) {
          ctx_.after_update();
          if (ctx_.updates() >= o_.max_updates)
            stop(StopReason::max_updates, fmt::format("{} updates", ctx_.updates()));
        }
      }
      if (ctx_.stop_requested()) stop(StopReason::interrupted, "interrupted");
      changed_.notify_all();
      ctx_.show_progress(0.0);
    }
  }

  void draw_fates(std::uint32_t w, bool& leaves, bool& crashes, bool& lost) {
    const ReliabilityOptions& rel = o_.reliability;
    if (rel.crash_prob <= 0.0 && rel.leave_prob <= 0.0 && rel.loss_prob <= 0.0) return;
    Rng& rng = fates_[w];
    const double leave = rng.uniform();
    (void)rng.uniform();
    const double crash = rng.uniform();
    (void)rng.uniform();
    const double loss = rng.uniform();
    leaves = leave < rel.leave_prob;
    crashes = crash < rel.crash_prob;
    lost = loss < rel.loss_prob;
  }

  void stop(StopReason reason, std::string message) {
    if (over_) return;
    over_ = true;
    reason_ = reason;
    message_ = std::move(message);
    work_.notify_all();
    changed_.notify_all();
  }

  bool evaluate(RoundScratch& scratch) {
    std::unique_lock lock(mutex_);
    return evaluate_locked(lock, scratch);
  }

  // Takes the point's counters and a snapshot of the same state with the lock held, evaluates with
  // it released (workers keep going), and records with it held again.
  bool evaluate_locked(std::unique_lock<std::mutex>& lock, RoundScratch& scratch) {
    EvalPoint point = ctx_.begin_point(0.0);
    const SnapshotPtr snapshot = ctx_.transport.observe();
    lock.unlock();
    const LossSum test = evaluate_here(scratch, ctx_.model, snapshot->parameters, ctx_.data.test, o_.eval_limit,
                                       o_.eval_batch > 0 ? o_.eval_batch : o_.batch);
    lock.lock();
    if (ctx_.finish_point(point, test)) return true;
    stop(StopReason::diverged,
         fmt::format("diverged: the test loss is {} at update {}", test.mean_loss(), snapshot->version));
    diverged_ = true;
    return false;
  }

  RunContext& ctx_;
  const AsyncOptions& o_;
  std::vector<Rng> fates_;
  std::mutex mutex_;
  std::condition_variable work_;
  std::condition_variable changed_;
  std::deque<Ready> queue_;
  bool over_ = false;
  bool diverged_ = false;
  StopReason reason_ = StopReason::max_updates;
  std::string message_;
};

}  // namespace

void run_threads(RunContext& ctx) {
  const SingleThreadedKernels single_threaded;  // this thread evaluates beside the workers
  ThreadsRun run(ctx);
  run.run();
}

}  // namespace rnn::async_detail
