#include "run_metrics.hpp"

#include <algorithm>
#include <cmath>

#include "rnn/core/error.hpp"

namespace rnn::async_detail {

void RunMetrics::received(const PushReceipt& receipt) {
  if (receipt.outcome != PushOutcome::applied) return;
  if (receipt.delay >= delays_.size()) delays_.resize(receipt.delay + 1, 0);
  ++delays_[receipt.delay];
  ++delay_count_;
  delay_sum_ += static_cast<double>(receipt.delay);
  tau_sum_ += receipt.tau_sum;
  entries_ += static_cast<double>(receipt.entries);
}

namespace {

// The smallest delay d with at least fraction q of the window's pushes at or below d.
std::uint64_t quantile(const std::vector<std::uint64_t>& histogram, std::uint64_t count, double q) {
  if (count == 0) return 0;
  const auto needed = static_cast<std::uint64_t>(std::max(1.0, std::ceil(q * static_cast<double>(count))));
  std::uint64_t seen = 0;
  for (std::size_t d = 0; d < histogram.size(); ++d) {
    seen += histogram[d];
    if (seen >= needed) return d;
  }
  return histogram.empty() ? 0 : histogram.size() - 1;
}

std::uint64_t count_of(const ServerCounters& c, PushOutcome outcome) {
  return c.pushes[static_cast<std::size_t>(outcome)];
}

}  // namespace

void RunMetrics::close_window(const ServerCounters& server, std::size_t workers, EvalPoint& p) {
  p.pushes_sent = sent_;
  p.pushes_applied = server.applied();
  p.pushes_rejected = server.rejected();
  p.pushes_lost = lost_;
  p.rejected_malformed = count_of(server, PushOutcome::malformed);
  p.rejected_non_finite = count_of(server, PushOutcome::non_finite);
  p.rejected_from_the_future = count_of(server, PushOutcome::from_the_future);
  p.rejected_too_stale = count_of(server, PushOutcome::too_stale);
  p.crashes = crashes_;
  p.departures = departures_;
  p.workers_active = workers - departures_;
  p.train_loss = losses_ > 0 ? loss_sum_ / static_cast<double>(losses_) : 0.0;
  p.staleness_mean = delay_count_ > 0 ? delay_sum_ / static_cast<double>(delay_count_) : 0.0;
  p.staleness_p50 = quantile(delays_, delay_count_, 0.5);
  p.staleness_p99 = quantile(delays_, delay_count_, 0.99);
  p.staleness_max = delays_.empty() ? 0 : delays_.size() - 1;
  p.tau_mean = entries_ > 0.0 ? tau_sum_ / entries_ : 0.0;
  p.delay_counts = std::move(delays_);
  delays_.clear();
  delay_count_ = 0;
  delay_sum_ = 0.0;
  tau_sum_ = 0.0;
  entries_ = 0.0;
  loss_sum_ = 0.0;
  losses_ = 0;
}

void RunMetrics::save_state(std::vector<std::uint8_t>& out) const {
  for (const std::uint64_t n : {sent_, lost_, crashes_, departures_, losses_, delay_count_}) wire::put_u64(out, n);
  for (const double x : {loss_sum_, delay_sum_, tau_sum_, entries_}) wire::put_f64(out, x);
  wire::put_u64(out, delays_.size());
  for (const std::uint64_t n : delays_) wire::put_u64(out, n);
}

void RunMetrics::load_state(wire::Reader& in) {
  RunMetrics m;
  for (std::uint64_t* n : {&m.sent_, &m.lost_, &m.crashes_, &m.departures_, &m.losses_, &m.delay_count_})
    *n = in.u64("run counters");
  for (double* x : {&m.loss_sum_, &m.delay_sum_, &m.tau_sum_, &m.entries_}) *x = in.f64("run sums");
  const std::uint64_t buckets = in.u64("delay histogram size");
  if (buckets > in.remaining() / 8) throw Error("checkpoint: delay histogram larger than the file");
  m.delays_.resize(static_cast<std::size_t>(buckets));
  for (std::uint64_t& n : m.delays_) n = in.u64("delay histogram");
  *this = std::move(m);
}

}  // namespace rnn::async_detail
