#pragma once
// A run's evaluation points as rnnl-study reads them from rnnl-train's metrics file, and the two
// questions asked of them: when did the run first reach an accuracy, and does the study's abandon
// rule stop it.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <vector>

#include "study_file.hpp"

namespace rnn::study {

struct Point {
  std::uint64_t updates = 0;
  double virtual_seconds = 0.0;
  double wall_seconds = 0.0;
  double ingress_bytes = 0.0;
  double accuracy = 0.0;
  double staleness_mean = 0.0;
  double staleness_p99 = 0.0;
  double tau_mean = 0.0;
};

struct Reach {  // the first evaluation point at or above a target
  double updates = 0.0;
  double ingress_bytes = 0.0;
  double virtual_seconds = 0.0;
};

// The first point with accuracy ≥ target, if any.
[[nodiscard]] std::optional<Reach> first_reach(const std::vector<Point>& points, double target);

// The points of a metrics file written by rnnl-train --trainer async (JSON Lines). Throws
// rnn::Error naming the file and line on a malformed record.
[[nodiscard]] std::vector<Point> read_points(const std::filesystem::path& metrics);

// The index of the point at which `rule` abandons a run with these points: its first point at or
// after rule.at_updates, if that point is below rule.below_accuracy. None without a rule.
[[nodiscard]] std::optional<std::size_t> abandon_index(const std::vector<Point>& points, const AbandonRule& rule);

}  // namespace rnn::study
