#include "summary.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <numeric>

#include <fmt/format.h>
#include <boost/math/distributions/students_t.hpp>
#include <nlohmann/json.hpp>

#include "rnn/core/atomic_file.hpp"
#include "rnn/core/error.hpp"

namespace rnn::study {
namespace {

constexpr std::size_t npos = static_cast<std::size_t>(-1);
const double nan = std::numeric_limits<double>::quiet_NaN();

bool is_best_over(const Study& study, const std::string& axis) {
  return std::find(study.report.best_over.begin(), study.report.best_over.end(), axis) != study.report.best_over.end();
}

std::string group_label(const Study& study, const Configuration& c) {
  std::string label;
  for (std::size_t a = 0; a < study.grid.size(); ++a) {
    if (is_best_over(study, study.grid[a].option)) continue;
    label += fmt::format("{}{}={}", label.empty() ? "" : " ", study.grid[a].option, c.values[a]);
  }
  return label;
}

std::size_t method_index(const Study& study, const std::string& name) {
  for (std::size_t m = 0; m < study.methods.size(); ++m) {
    if (study.methods[m].name == name) return m;
  }
  return npos;
}

}  // namespace

std::vector<Point> mean_curve(const std::vector<RunResult>& all, std::size_t configuration) {
  std::vector<const RunResult*> runs;
  for (const RunResult& r : all) {
    if (r.configuration == configuration && r.finished && !r.points.empty()) runs.push_back(&r);
  }
  if (runs.empty()) return {};
  // Up to the shortest run, and only while every run's point i is at the same update (it is when
  // the runs evaluate every N updates; with --eval-every-seconds it need not be).
  std::size_t n = runs.front()->points.size();
  for (const RunResult* r : runs) n = std::min(n, r->points.size());
  for (std::size_t i = 0; i < n; ++i) {
    const bool aligned = std::all_of(runs.begin(), runs.end(), [&](const RunResult* r) {
      return r->points[i].updates == runs.front()->points[i].updates;
    });
    if (!aligned) {
      n = i;
      break;
    }
  }
  std::vector<Point> curve(n);
  const auto k = static_cast<double>(runs.size());
  for (std::size_t i = 0; i < n; ++i) {
    double updates = 0.0;
    for (const RunResult* r : runs) {
      const Point& p = r->points[i];
      updates += static_cast<double>(p.updates);
      curve[i].virtual_seconds += p.virtual_seconds / k;
      curve[i].wall_seconds += p.wall_seconds / k;
      curve[i].ingress_bytes += p.ingress_bytes / k;
      curve[i].accuracy += p.accuracy / k;
      curve[i].staleness_mean += p.staleness_mean / k;
      curve[i].staleness_p99 += p.staleness_p99 / k;
      curve[i].tau_mean += p.tau_mean / k;
    }
    curve[i].updates = static_cast<std::uint64_t>(std::llround(updates / k));
  }
  return curve;
}

Estimate estimate(const std::vector<double>& values) {
  Estimate e;
  e.n = values.size();
  if (e.n == 0) {
    e.mean = nan;
    e.ci95 = nan;
    return e;
  }
  e.mean = std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(e.n);
  if (e.n < 2) {
    e.ci95 = nan;
    return e;
  }
  double ss = 0.0;
  for (const double v : values) ss += (v - e.mean) * (v - e.mean);
  const double sd = std::sqrt(ss / static_cast<double>(e.n - 1));
  const boost::math::students_t t(static_cast<double>(e.n - 1));
  e.ci95 = boost::math::quantile(t, 0.975) * sd / std::sqrt(static_cast<double>(e.n));
  return e;
}

Summary summarise(const Study& study, const Expansion& expansion, const QueueOptions& queue) {
  Summary s;
  const std::size_t targets = study.report.targets.size();
  for (const RunSpec& spec : expansion.runs) {
    RunResult r;
    r.id = spec.id;
    r.configuration = spec.configuration;
    r.seed = spec.seed;
    if (auto status = finished_status(spec, queue)) {
      try {
        r.points = read_points(queue.runs_dir / spec.id / "metrics.jsonl");
      } catch (const Error& e) {
        // One unreadable file does not hide the other runs: this one counts as not finished.
        fmt::print(stderr, "rnnl-study: {} is left out: {}\n", spec.id, e.what());
        s.runs.push_back(std::move(r));
        continue;
      }
      r.finished = true;
      r.status = std::move(*status);
      // The same rule whether it stopped the run or the run finished before the study had it.
      if (const auto stop = abandon_index(r.points, study.abandon)) {
        r.status.outcome = Outcome::abandoned;
        r.points.resize(*stop + 1);
      }
    }
    s.runs.push_back(std::move(r));
  }

  s.configurations.resize(expansion.configurations.size());
  for (std::size_t c = 0; c < expansion.configurations.size(); ++c) {
    ConfigurationSummary& cs = s.configurations[c];
    std::vector<double> final_acc, best_acc, bytes, seconds, wall, updates, stale;
    std::vector<std::vector<double>> u_to(targets), b_to(targets), s_to(targets);
    cs.reached.assign(targets, 0);
    for (const RunResult& r : s.runs) {
      if (r.configuration != c) continue;
      ++cs.runs;
      if (!r.finished) continue;
      ++cs.finished;
      if (r.status.outcome == Outcome::diverged) ++cs.diverged;
      if (r.status.outcome == Outcome::failed) ++cs.failed;
      if (r.status.outcome == Outcome::abandoned) ++cs.abandoned;
      for (std::size_t t = 0; t < targets; ++t) {
        if (const auto reach = first_reach(r.points, study.report.targets[t])) {
          ++cs.reached[t];
          u_to[t].push_back(reach->updates);
          b_to[t].push_back(reach->ingress_bytes);
          s_to[t].push_back(reach->virtual_seconds);
        }
      }
      if (r.status.outcome != Outcome::completed || r.points.empty()) continue;
      const Point& last = r.points.back();
      final_acc.push_back(last.accuracy);
      double best = 0.0;
      double stale_sum = 0.0;
      for (const Point& p : r.points) {
        best = std::max(best, p.accuracy);
        stale_sum += p.staleness_mean;
      }
      best_acc.push_back(best);
      bytes.push_back(last.ingress_bytes);
      seconds.push_back(last.virtual_seconds);
      wall.push_back(r.status.wall_seconds);
      updates.push_back(static_cast<double>(last.updates));
      stale.push_back(r.points.size() > 1 ? stale_sum / static_cast<double>(r.points.size() - 1) : 0.0);
    }
    cs.final_accuracy = estimate(final_acc);
    cs.best_accuracy = estimate(best_acc);
    cs.ingress_bytes = estimate(bytes);
    cs.virtual_seconds = estimate(seconds);
    cs.wall_seconds = estimate(wall);
    cs.updates = estimate(updates);
    cs.staleness_mean = estimate(stale);
    for (std::size_t t = 0; t < targets; ++t) {
      cs.updates_to.push_back(estimate(u_to[t]));
      cs.bytes_to.push_back(estimate(b_to[t]));
      cs.seconds_to.push_back(estimate(s_to[t]));
    }
  }

  // Groups, and each method's best configuration in each.
  std::map<std::string, std::size_t> group_of_label;
  for (std::size_t c = 0; c < expansion.configurations.size(); ++c) {
    const Configuration& conf = expansion.configurations[c];
    const std::string label = group_label(study, conf);
    auto [it, added] = group_of_label.emplace(label, s.groups.size());
    if (added) {
      Group g;
      g.label = label;
      g.best.assign(study.methods.size(), npos);
      s.groups.push_back(std::move(g));
    }
    Group& g = s.groups[it->second];
    const std::size_t m = method_index(study, conf.method);
    const ConfigurationSummary& cs = s.configurations[c];
    if (!cs.eligible()) continue;
    if (g.best[m] == npos || cs.final_accuracy.mean > s.configurations[g.best[m]].final_accuracy.mean) g.best[m] = c;
  }
  const std::size_t baseline = method_index(study, study.report.baseline);
  for (Group& g : s.groups) {
    std::vector<std::vector<Point>> curves;
    for (const std::size_t c : g.best) curves.push_back(c == npos ? std::vector<Point>{} : mean_curve(s.runs, c));
    for (auto t = targets; t-- > 0;) {
      const double target = study.report.targets[t];
      const bool all = std::all_of(curves.begin(), curves.end(), [&](const std::vector<Point>& curve) {
        return first_reach(curve, target).has_value();
      });
      if (all) {
        g.common_target = target;
        break;
      }
    }
    // From the baseline's mean curve, which therefore reaches it (its last point is the mean final
    // accuracy when the runs end together).
    if (g.best[baseline] != npos && !curves[baseline].empty()) {
      g.preserved_target = curves[baseline].back().accuracy - study.report.preserved_points / 100.0;
    }
    for (const std::vector<Point>& curve : curves) {
      g.common.push_back(g.common_target > 0.0 ? first_reach(curve, g.common_target) : std::nullopt);
      g.preserved.push_back(g.preserved_target > 0.0 ? first_reach(curve, g.preserved_target) : std::nullopt);
    }
  }
  return s;
}

namespace {

std::string pct(const Estimate& e) {
  if (e.n == 0) return "—";
  if (std::isnan(e.ci95)) return fmt::format("{:.2f}", 100.0 * e.mean);
  return fmt::format("{:.2f} ± {:.2f}", 100.0 * e.mean, 100.0 * e.ci95);
}

std::string scaled(const Estimate& e, double unit, int decimals) {
  if (e.n == 0) return "—";
  if (std::isnan(e.ci95)) return fmt::format("{:.{}f}", e.mean / unit, decimals);
  return fmt::format("{:.{}f} ± {:.{}f}", e.mean / unit, decimals, e.ci95 / unit, decimals);
}

std::string target_name(double t) {
  return fmt::format("{:g}", 100.0 * t);
}

// A CSV field, quoted when it holds a comma, a quote or a line break.
std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string out = "\"";
  for (const char c : text) {
    out += c;
    if (c == '"') out += '"';
  }
  return out + "\"";
}

std::string csv_number(double x) {
  return std::isnan(x) ? "" : fmt::format("{}", x);
}

std::string runs_cell(const ConfigurationSummary& cs) {
  std::string text = fmt::format("{}/{}", cs.finished, cs.runs);
  if (cs.diverged > 0) text += fmt::format(", {} diverged", cs.diverged);
  if (cs.failed > 0) text += fmt::format(", {} failed", cs.failed);
  if (cs.abandoned > 0) text += fmt::format(", {} abandoned", cs.abandoned);
  return text;
}

std::string reach_cell(const ConfigurationSummary& cs, std::size_t t) {
  if (cs.reached[t] == 0) return "—";
  std::string text = fmt::format("{} / {}", scaled(cs.updates_to[t], 1e3, 1), scaled(cs.bytes_to[t], 1e6, 0));
  if (cs.reached[t] < cs.finished) text += fmt::format(" ({} of {} runs)", cs.reached[t], cs.finished);
  return text;
}

}  // namespace

void write_summary(const Study& study, const Expansion& expansion, const Summary& s, const std::filesystem::path& dir) {
  const std::size_t targets = study.report.targets.size();
  std::string md = fmt::format("# Study {}\n\n", study.name);
  if (!study.title.empty()) md += study.title + "\n\n";
  std::size_t finished = 0;
  double cpu = 0.0;
  for (const RunResult& r : s.runs) {
    finished += r.finished ? 1 : 0;
    cpu += r.finished ? r.status.wall_seconds : 0.0;
  }
  md += fmt::format(
      "{} of {} runs finished ({:.0f} min of run time, summed over runs). Accuracies are on the test set, in %; MB are "
      "10⁶ bytes of encoded pushes that reached the server (ingress); ± is the half-width of a 95 % confidence "
      "interval over seeds (Student's t). Seeds: {}.\n\n",
      finished, s.runs.size(), cpu / 60.0, fmt::join(study.seeds, ", "));

  for (const Group& g : s.groups) {
    md +=
        g.label.empty() ? "## Each method at its best\n\n" : fmt::format("## {}: each method at its best\n\n", g.label);
    if (!study.report.best_over.empty())
      md += fmt::format("Best = highest mean final accuracy over {} among configurations whose runs all completed.\n\n",
                        fmt::join(study.report.best_over, ", "));
    md += "| method | configuration | final accuracy | best accuracy | MB sent |";
    for (const double t : study.report.targets) md += fmt::format(" to {} %: k updates / MB |", target_name(t));
    md += "\n|---|---|---|---|---|";
    for (std::size_t t = 0; t < targets; ++t) md += "---|";
    md += "\n";
    for (std::size_t m = 0; m < study.methods.size(); ++m) {
      const std::size_t c = g.best[m];
      if (c == npos) {
        md += fmt::format("| {} | no configuration with every run finished, none diverged, failed or abandoned |",
                          study.methods[m].name);
        for (std::size_t t = 0; t < targets + 3; ++t) md += " |";
        md += "\n";
        continue;
      }
      const ConfigurationSummary& cs = s.configurations[c];
      md += fmt::format("| {} | {} | {} | {} | {} |", study.methods[m].name, expansion.configurations[c].id,
                        pct(cs.final_accuracy), pct(cs.best_accuracy), scaled(cs.ingress_bytes, 1e6, 1));
      for (std::size_t t = 0; t < targets; ++t) md += fmt::format(" {} |", reach_cell(cs, t));
      md += "\n";
    }
    md += "\n";
    const std::size_t b = method_index(study, study.report.baseline);
    const auto reduction_table = [&](std::string_view heading, double target,
                                     const std::vector<std::optional<Reach>>& reach) {
      md += fmt::format("{}\n\n| method | k updates | MB sent | virtual s | bytes vs {} |\n|---|---|---|---|---|\n",
                        heading, study.report.baseline);
      for (std::size_t m = 0; m < study.methods.size(); ++m) {
        if (!reach[m]) {
          md += fmt::format("| {} | not reached | | | |\n", study.methods[m].name);
          continue;
        }
        const std::string ratio =
            reach[b] ? fmt::format("{:.1f}×", reach[b]->ingress_bytes / reach[m]->ingress_bytes) : std::string("—");
        md += fmt::format("| {} | {:.1f} | {:.1f} | {:.1f} | {} |\n", study.methods[m].name, reach[m]->updates / 1e3,
                          reach[m]->ingress_bytes / 1e6, reach[m]->virtual_seconds, ratio);
      }
      md += "\n";
      (void)target;
    };
    if (g.preserved_target > 0.0) {
      reduction_table(fmt::format("**Preserved accuracy**: bytes to reach {:.2f} %, the baseline {}'s final accuracy "
                                  "minus {} point(s), first reached by each method's mean curve over seeds:",
                                  100.0 * g.preserved_target, study.report.baseline, study.report.preserved_points),
                      g.preserved_target, g.preserved);
    }
    if (g.common_target > 0.0) {
      reduction_table(fmt::format("**Common target**: bytes to reach {} %, the highest target the mean curve of every "
                                  "method's best configuration reaches:",
                                  target_name(g.common_target)),
                      g.common_target, g.common);
    } else {
      md += study.report.targets.empty()
                ? "The report names no target accuracies.\n\n"
                : "No target of the report is reached by the mean curve of every method's best configuration (or "
                  "some method has no eligible configuration yet).\n\n";
    }
  }

  md +=
      "## Every configuration\n\n| configuration | runs | final accuracy | best accuracy | updates | MB sent | "
      "virtual s | mean delay | wall s per run |\n|---|---|---|---|---|---|---|---|---|\n";
  for (std::size_t c = 0; c < expansion.configurations.size(); ++c) {
    const ConfigurationSummary& cs = s.configurations[c];
    md += fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} | {} |\n", expansion.configurations[c].id, runs_cell(cs),
                      pct(cs.final_accuracy), pct(cs.best_accuracy), scaled(cs.updates, 1.0, 0),
                      scaled(cs.ingress_bytes, 1e6, 1), scaled(cs.virtual_seconds, 1.0, 1),
                      scaled(cs.staleness_mean, 1.0, 1), scaled(cs.wall_seconds, 1.0, 0));
  }
  if (study.abandon.at_updates > 0)
    md += fmt::format("\nAbandoned: a run below {:.1f} % at its first evaluation from update {} on is stopped there.\n",
                      100.0 * study.abandon.below_accuracy, study.abandon.at_updates);
  md +=
      "\nWall times depend on the machine and its load; every other number is reproduced exactly by rerunning "
      "the study (virtual mode).\n";
  write_file_atomically(dir / "summary.md", md);

  // summary.csv: one row per configuration.
  std::string csv = "study,configuration,method";
  for (const Axis& a : study.grid) csv += fmt::format(",{}", csv_field(a.option));
  csv +=
      ",runs,finished,diverged,failed,abandoned,best_of_method,final_accuracy,final_accuracy_ci95,best_accuracy,"
      "updates,"
      "ingress_bytes,virtual_seconds,wall_seconds,staleness_mean";
  for (const double t : study.report.targets) {
    const std::string n = target_name(t);
    csv +=
        fmt::format(",reached_{0},updates_to_{0},updates_to_{0}_ci95,bytes_to_{0},bytes_to_{0}_ci95,seconds_to_{0}", n);
  }
  csv += "\n";
  for (std::size_t c = 0; c < expansion.configurations.size(); ++c) {
    const Configuration& conf = expansion.configurations[c];
    const ConfigurationSummary& cs = s.configurations[c];
    bool best = false;
    for (const Group& g : s.groups) best = best || std::find(g.best.begin(), g.best.end(), c) != g.best.end();
    csv += fmt::format("{},{},{}", study.name, csv_field(conf.id), conf.method);
    for (const std::string& v : conf.values) csv += fmt::format(",{}", csv_field(v));
    csv += fmt::format(
        ",{},{},{},{},{},{},{},{},{},{},{},{},{},{}", cs.runs, cs.finished, cs.diverged, cs.failed, cs.abandoned,
        best ? 1 : 0, csv_number(cs.final_accuracy.mean), csv_number(cs.final_accuracy.ci95),
        csv_number(cs.best_accuracy.mean), csv_number(cs.updates.mean), csv_number(cs.ingress_bytes.mean),
        csv_number(cs.virtual_seconds.mean), csv_number(cs.wall_seconds.mean), csv_number(cs.staleness_mean.mean));
    for (std::size_t t = 0; t < targets; ++t) {
      csv += fmt::format(",{},{},{},{},{},{}", cs.reached[t], csv_number(cs.updates_to[t].mean),
                         csv_number(cs.updates_to[t].ci95), csv_number(cs.bytes_to[t].mean),
                         csv_number(cs.bytes_to[t].ci95), csv_number(cs.seconds_to[t].mean));
    }
    csv += "\n";
  }
  write_file_atomically(dir / "summary.csv", csv);
}

}  // namespace rnn::study
