#pragma once
// What a study measured: per run, its evaluation points and when it first reached each target
// accuracy; per configuration, over its seeds, the mean and the 95 % confidence interval
// (Student's t, n − 1 degrees of freedom: mean ± t₀.₉₇₅ · s / √n); per method, its best
// configuration over the report's best_over axes; and the ingress bytes each best method needs to
// reach a common accuracy, against the baseline method's.
//
// Conventions: a configuration with a diverged, failed or abandoned run is not eligible as a best. Per
// configuration and target, the updates, bytes and virtual seconds to reach it are means over the
// runs that reached it, with how many did. Between methods, "reaching" an accuracy is the first
// point of the configuration's mean curve (the mean over seeds at each evaluation point) at or
// above it: the "preserved" target is the baseline's mean final accuracy minus
// report.preserved_points (which the baseline's mean curve always reaches), and the "common target"
// of a group is the highest report target that the mean curve of every best method reaches.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "points.hpp"
#include "run_queue.hpp"
#include "study_file.hpp"

namespace rnn::study {

struct RunResult {
  std::string id;
  std::size_t configuration = 0;
  std::uint64_t seed = 0;
  bool finished = false;
  RunStatus status;
  std::vector<Point> points;
};

// The mean curve of a configuration's finished runs: point i is the mean of the runs' i-th points,
// over the shortest run (evaluation points fall at the same updates in every run of a configuration).
[[nodiscard]] std::vector<Point> mean_curve(const std::vector<RunResult>& runs, std::size_t configuration);

struct Estimate {
  double mean = 0.0;
  double ci95 = 0.0;  // half-width; NaN when n < 2
  std::size_t n = 0;
};
[[nodiscard]] Estimate estimate(const std::vector<double>& values);

struct ConfigurationSummary {
  std::size_t runs = 0;
  std::size_t finished = 0;
  std::size_t diverged = 0;
  std::size_t failed = 0;
  std::size_t abandoned = 0;
  Estimate final_accuracy;  // over runs that completed
  Estimate best_accuracy;
  Estimate ingress_bytes;    // whole run
  Estimate virtual_seconds;  // whole run
  Estimate wall_seconds;     // whole process
  Estimate updates;
  Estimate staleness_mean;                                 // mean over the run's evaluation windows
  std::vector<std::size_t> reached;                        // per target: how many runs reached it
  std::vector<Estimate> updates_to, bytes_to, seconds_to;  // per target, over runs that reached it
  [[nodiscard]] bool eligible() const {
    return finished == runs && diverged == 0 && failed == 0 && abandoned == 0 && runs > 0;
  }
};

struct Group {                    // configurations equal on every axis that is not a best_over axis
  std::string label;              // "model=cnn workers=100", or "" with no other axes
  std::vector<std::size_t> best;  // per method (study order): its best configuration, or npos
  double common_target = 0.0;     // 0: none reached by every best method
  double preserved_target = 0.0;  // 0: no eligible baseline
  std::vector<std::optional<Reach>> common, preserved;  // per method: its best configuration's mean curve
};

struct Summary {
  std::vector<RunResult> runs;
  std::vector<ConfigurationSummary> configurations;
  std::vector<Group> groups;
};

// Reads every run's folder (unfinished runs count as such) and summarises.
[[nodiscard]] Summary summarise(const Study& study, const Expansion& expansion, const QueueOptions& queue);

// summary.md, summary.csv in `dir`, written atomically.
void write_summary(const Study& study, const Expansion& expansion, const Summary& summary,
                   const std::filesystem::path& dir);

}  // namespace rnn::study
