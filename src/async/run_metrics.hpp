#pragma once
// The counters behind a run's evaluation points: pushes by fate, workers' losses, and the delays
// of the pushes applied since the previous point (an exact histogram, for exact percentiles).
// Used by one thread at a time (the caller locks in threads mode).
#include <cstdint>
#include <vector>

#include "rnn/async/runner.hpp"
#include "rnn/core/byte_io.hpp"
#include "rnn/server/parameter_server.hpp"

namespace rnn::async_detail {

class RunMetrics {
 public:
  void round_computed(double loss) {
    loss_sum_ += loss;
    ++losses_;
  }
  void push_sent() { ++sent_; }
  void push_lost() { ++lost_; }
  void crashed() { ++crashes_; }
  void departed() { ++departures_; }
  void received(const PushReceipt& receipt);

  [[nodiscard]] std::uint64_t sent() const { return sent_; }
  [[nodiscard]] std::uint64_t lost() const { return lost_; }
  [[nodiscard]] std::uint64_t departures() const { return departures_; }
  [[nodiscard]] std::uint64_t crashes() const { return crashes_; }

  void save_state(std::vector<std::uint8_t>& out) const;
  void load_state(wire::Reader& in);

  // Fills the counting fields of `point` (everything but the clock, bytes, evaluation and learning
  // rate) and starts a new window for the staleness statistics and the training loss.
  void close_window(const ServerCounters& server, std::size_t workers, EvalPoint& point);

 private:
  std::uint64_t sent_ = 0;
  std::uint64_t lost_ = 0;
  std::uint64_t crashes_ = 0;
  std::uint64_t departures_ = 0;
  double loss_sum_ = 0.0;
  std::uint64_t losses_ = 0;
  std::vector<std::uint64_t> delays_;  // histogram of this window's delays
  std::uint64_t delay_count_ = 0;
  double delay_sum_ = 0.0;
  double tau_sum_ = 0.0;
  double entries_ = 0.0;
};

}  // namespace rnn::async_detail
