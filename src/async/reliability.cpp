#include "rnn/async/reliability.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>

#include <fmt/format.h>

#include "rnn/core/error.hpp"

namespace rnn {
namespace {

constexpr double kInfinity = std::numeric_limits<double>::infinity();

bool is_probability(double p) {
  return p >= 0.0 && p <= 1.0;
}

bool parse_time(const std::string& text, double& out) {
  if (text == "inf") {
    out = kInfinity;
    return true;
  }
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc() && ptr == end && std::isfinite(out);
}

}  // namespace

void check(const ReliabilityOptions& o) {
  if (!is_probability(o.crash_prob))
    throw Error(fmt::format("crash probability must be in [0, 1], got {}", o.crash_prob));
  if (!is_probability(o.leave_prob))
    throw Error(fmt::format("leave probability must be in [0, 1], got {}", o.leave_prob));
  if (!is_probability(o.loss_prob)) throw Error(fmt::format("loss probability must be in [0, 1], got {}", o.loss_prob));
  if (!(o.down_time >= 0.0 && std::isfinite(o.down_time)))
    throw Error(fmt::format("down time must be finite and ≥ 0, got {}", o.down_time));
}

Availability Availability::read(const std::filesystem::path& path, std::size_t workers) {
  std::ifstream in(path);
  if (!in) throw Error(fmt::format("{}: cannot open availability trace", path.string()));
  Availability a;
  a.intervals_.resize(workers);
  std::vector<bool> named(workers, false);
  std::string line;
  std::size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (const auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    std::istringstream fields(line);
    std::string worker_text;
    std::string start_text;
    std::string end_text;
    std::string extra;
    if (!(fields >> worker_text)) continue;  // blank or comment
    const auto fail = [&](std::string_view why) { return Error(fmt::format("{}:{}: {}", path.string(), number, why)); };
    if (!(fields >> start_text >> end_text) || (fields >> extra)) throw fail("expected 'WORKER START END'");
    std::size_t worker = 0;
    const char* wend = worker_text.data() + worker_text.size();
    if (const auto [ptr, ec] = std::from_chars(worker_text.data(), wend, worker); ec != std::errc() || ptr != wend)
      throw fail(fmt::format("worker '{}' is not a whole number", worker_text));
    if (worker >= workers) throw fail(fmt::format("worker {} does not exist (the run has {})", worker, workers));
    OnInterval interval;
    if (!parse_time(start_text, interval.start) || std::isinf(interval.start) || interval.start < 0.0)
      throw fail(fmt::format("start '{}' is not a finite time ≥ 0", start_text));
    if (!parse_time(end_text, interval.end)) throw fail(fmt::format("end '{}' is not a time", end_text));
    if (!(interval.start < interval.end)) throw fail("START must be below END");
    a.intervals_[worker].push_back(interval);
    named[worker] = true;
  }
  if (in.bad()) throw Error(fmt::format("{}: read failed", path.string()));
  for (std::size_t w = 0; w < workers; ++w) {
    auto& list = a.intervals_[w];
    if (!named[w]) {
      list.push_back({0.0, kInfinity});
      continue;
    }
    std::sort(list.begin(), list.end(), [](const OnInterval& x, const OnInterval& y) { return x.start < y.start; });
    for (std::size_t j = 1; j < list.size(); ++j) {
      if (list[j].start < list[j - 1].end)
        throw Error(fmt::format("{}: worker {} has overlapping intervals [{}, {}) and [{}, {})", path.string(), w,
                                list[j - 1].start, list[j - 1].end, list[j].start, list[j].end));
    }
  }
  return a;
}

double Availability::next_on(std::size_t worker, double t) const {
  if (intervals_.empty()) return t;
  for (const OnInterval& i : intervals_[worker]) {
    if (t < i.end) return std::max(t, i.start);
  }
  return kInfinity;
}

double Availability::on_until(std::size_t worker, double t) const {
  if (intervals_.empty()) return kInfinity;
  for (const OnInterval& i : intervals_[worker]) {
    if (t >= i.start && t < i.end) return i.end;
  }
  return t;
}

}  // namespace rnn
