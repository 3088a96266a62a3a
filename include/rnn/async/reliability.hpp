#pragma once
// Emulated unreliable devices and links. Per round of a worker, in this order:
//
//   leave       with probability leave_prob the worker departs for good at a uniformly random
//               moment of the round (its push, if it had not arrived, is lost);
//   crash       with probability crash_prob it crashes at a uniformly random moment of the round:
//               a push whose upload had started is lost in transit, otherwise none is sent; it
//               rejoins down_time seconds after the crash;
//   loss        with probability loss_prob the push is lost in transit;
//   availability (virtual time only) a worker is on only inside its trace's intervals: it starts a
//               round only when on, and a round still running when the worker goes off is cut
//               short like a crash (it rejoins at the next interval).
//
// Availability trace file, one interval per line ('#' starts a comment, blank lines skipped):
//
//   WORKER START END        times in virtual seconds, START < END, END may be "inf"
//
// meaning worker WORKER (0-based) is on in [START, END). A worker's intervals must not overlap;
// they may come in any order. Workers the file does not name are always on.
#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>

namespace rnn {

struct ReliabilityOptions {
  double crash_prob = 0.0;             // per round
  double down_time = 0.0;              // virtual seconds after a crash
  double leave_prob = 0.0;             // per round
  double loss_prob = 0.0;              // per push
  std::filesystem::path availability;  // empty: always on

  [[nodiscard]] bool any() const {
    return crash_prob > 0.0 || leave_prob > 0.0 || loss_prob > 0.0 || !availability.empty();
  }
};

// Throws rnn::Error unless every probability is in [0, 1] and the down time finite and ≥ 0.
void check(const ReliabilityOptions& options);

struct OnInterval {
  double start = 0.0;
  double end = 0.0;  // may be +inf
};

// Per worker, its on-intervals in increasing order. A worker with no line in the file is always on
// ({[0, inf)}); one with lines is off outside them.
class Availability {
 public:
  Availability() = default;  // everyone always on
  // Reads a trace file for `workers` workers; throws rnn::Error naming the file and line on
  // anything malformed (bad numbers, START ≥ END, negative times, unknown worker, overlaps).
  static Availability read(const std::filesystem::path& path, std::size_t workers);

  // The first moment ≥ t at which `worker` is on (t itself if on), or +inf if never again.
  [[nodiscard]] double next_on(std::size_t worker, double t) const;
  // The end of the interval that contains t (t must be on): when the worker goes off next.
  [[nodiscard]] double on_until(std::size_t worker, double t) const;

 private:
  std::vector<std::vector<OnInterval>> intervals_;  // empty: every worker always on
};

}  // namespace rnn
