#include "points.hpp"

#include <fstream>
#include <limits>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "rnn/core/error.hpp"

namespace rnn::study {
namespace {

double number(const nlohmann::json& record, const char* key, const std::string& where) {
  const auto it = record.find(key);
  if (it == record.end()) throw Error(fmt::format("{}: no \"{}\"", where, key));
  if (it->is_null()) return std::numeric_limits<double>::quiet_NaN();  // a non-finite value
  if (!it->is_number()) throw Error(fmt::format("{}: \"{}\" is not a number", where, key));
  return it->get<double>();
}

}  // namespace

std::optional<Reach> first_reach(const std::vector<Point>& points, double target) {
  for (const Point& p : points) {
    if (p.accuracy >= target) return Reach{static_cast<double>(p.updates), p.ingress_bytes, p.virtual_seconds};
  }
  return std::nullopt;
}

std::vector<Point> read_points(const std::filesystem::path& metrics) {
  std::ifstream in(metrics);
  if (!in) throw Error(fmt::format("{}: cannot read", metrics.string()));
  std::vector<Point> points;
  std::string line;
  std::size_t number_of_line = 0;
  while (std::getline(in, line)) {
    ++number_of_line;
    if (line.empty()) continue;
    const std::string where = fmt::format("{}:{}", metrics.string(), number_of_line);
    nlohmann::json record;
    try {
      record = nlohmann::json::parse(line);
    } catch (const nlohmann::json::parse_error& e) {
      throw Error(fmt::format("{}: not a JSON record ({})", where, e.what()));
    }
    if (!record.is_object()) throw Error(fmt::format("{}: not a JSON object", where));
    Point p;
    const double updates = number(record, "updates", where);
    if (!(updates >= 0.0 && updates < 1.8e19)) throw Error(fmt::format("{}: \"updates\" is not a count", where));
    p.updates = static_cast<std::uint64_t>(updates);
    p.virtual_seconds = number(record, "virtual_seconds", where);
    p.wall_seconds = number(record, "wall_seconds", where);
    p.ingress_bytes = number(record, "ingress_bytes", where);
    p.accuracy = number(record, "test_accuracy", where);
    p.staleness_mean = number(record, "staleness_mean", where);
    p.staleness_p99 = number(record, "staleness_p99", where);
    p.tau_mean = number(record, "tau_mean", where);
    points.push_back(p);
  }
  return points;
}

std::optional<std::size_t> abandon_index(const std::vector<Point>& points, const AbandonRule& rule) {
  if (rule.at_updates == 0) return std::nullopt;
  for (std::size_t i = 0; i < points.size(); ++i) {
    if (points[i].updates < rule.at_updates) continue;
    if (points[i].accuracy < rule.below_accuracy) return i;
    return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace rnn::study
