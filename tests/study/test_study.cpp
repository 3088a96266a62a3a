// rnnl-study's parts: the study file (validation, grid expansion, run ids), the statistics (Student
// t intervals against tabulated quantiles, first reach, mean curves), and the summary of run
// folders written here by hand (resume: which runs count as finished, the best-of selection, and the
// configurations --extend-best takes to every seed).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

#include <fmt/format.h>

#include "extend_best.hpp"
#include "rnn/core/error.hpp"
#include "run_queue.hpp"
#include "study_file.hpp"
#include "summary.hpp"

namespace rs = rnn::study;

namespace {

const char* kStudy = R"({
  "name": "t",
  "options": {"model": "mlp", "workers": 10, "normalise-gradient": true, "error-feedback": false},
  "methods": [{"name": "A", "options": {"compressor": "none"}}, {"name": "B", "options": {"compressor": "adacomp", "workers": 20}}],
  "grid": {"lr": [0.1, 0.01], "speed": ["two-class:0.5,4"]},
  "seeds": [1, 7],
  "report": {"best_over": ["lr"], "baseline": "A", "targets": [0.9, 0.5]}
})";

std::string error_of(const std::string& json) {
  try {
    (void)rs::parse_study(json, "s.json");
  } catch (const rnn::Error& e) {
    return e.what();
  }
  return "";
}

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    path = std::filesystem::temp_directory_path() / fmt::format("rnnl-study-test-{}", ::getpid());
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

void write(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

// A finished run's folder: status.json with the command the queue would run, and its metrics.
void finish_run(const rs::RunSpec& run, const rs::QueueOptions& queue, const std::string& outcome,
                const std::vector<std::pair<std::uint64_t, double>>& accuracy_at, double bytes_per_update) {
  const auto dir = queue.runs_dir / run.id;
  std::string metrics;
  for (const auto& [updates, accuracy] : accuracy_at) {
    metrics += fmt::format(
        R"({{"model":"mlp","updates":{},"virtual_seconds":{},"wall_seconds":1.5,"ingress_bytes":{},"test_accuracy":{},"staleness_mean":9.0,"staleness_p99":9,"tau_mean":1.0}})"
        "\n",
        updates, 0.5 * static_cast<double>(updates), bytes_per_update * static_cast<double>(updates), accuracy);
  }
  write(dir / "metrics.jsonl", metrics);
  std::vector<std::string> quoted;
  for (const std::string& a : rs::command_line(run, queue)) quoted.push_back(fmt::format("\"{}\"", a));
  const std::string command = fmt::format("{}", fmt::join(quoted, ","));
  write(dir / "status.json",
        fmt::format(R"({{"run":"{}","outcome":"{}","exit_code":{},"wall_seconds":2.0,"message":"m","command":[{}]}})",
                    run.id, outcome, outcome == "completed" ? 0 : 1, command));
}

}  // namespace

TEST_CASE("a study file expands into configurations and runs with rnnl-train's arguments") {
  const rs::Study s = rs::parse_study(kStudy, "s.json");
  CHECK(s.report.targets == std::vector<double>{0.5, 0.9});  // sorted
  const rs::Expansion e = rs::expand(s);
  REQUIRE(e.configurations.size() == 4);
  REQUIRE(e.runs.size() == 8);
  CHECK(e.configurations[0].id == "A_lr=0.1_speed=two-class+0.5+4");
  CHECK(e.configurations[3].id == "B_lr=0.01_speed=two-class+0.5+4");
  CHECK(e.runs[1].id == "A_lr=0.1_speed=two-class+0.5+4_seed=7");
  // Study options, then the method's (overriding), then the grid's; false flags are left out.
  const std::vector<std::string> expected{"--trainer",
                                          "async",
                                          "--model",
                                          "mlp",
                                          "--workers",
                                          "20",
                                          "--normalise-gradient",
                                          "--compressor",
                                          "adacomp",
                                          "--lr",
                                          "0.01",
                                          "--speed",
                                          "two-class:0.5,4",
                                          "--seed",
                                          "1"};
  CHECK(e.runs[6].arguments == expected);
  CHECK(rs::option_value(s, e.configurations[3], "workers") == "20");
  CHECK(rs::option_value(s, e.configurations[0], "workers") == "10");
  CHECK(rs::option_value(s, e.configurations[0], "lr") == "0.1");
  CHECK(rs::option_value(s, e.configurations[0], "shards").empty());

  // A method's false removes a flag of the study's options.
  const rs::Study off = rs::parse_study(
      R"({"name":"x","options":{"normalise-gradient":true},"methods":[{"name":"A"},{"name":"B","options":{"normalise-gradient":false}}],"seeds":[1]})",
      "s.json");
  const rs::Expansion eo = rs::expand(off);
  CHECK(eo.runs[0].arguments == std::vector<std::string>{"--trainer", "async", "--normalise-gradient", "--seed", "1"});
  CHECK(eo.runs[1].arguments == std::vector<std::string>{"--trainer", "async", "--seed", "1"});
  CHECK(rs::option_value(off, eo.configurations[1], "normalise-gradient").empty());
}

TEST_CASE("a bad study file is refused with the file and the key named") {
  CHECK(error_of("{").find("s.json: not valid JSON") == 0);
  CHECK(
      error_of(R"({"name":"x","methods":[{"name":"A"}],"seeds":[1],"colour":1})").find("s.json: colour: unknown key") ==
      0);
  CHECK(error_of(R"({"name":"x","methods":[{"name":"A","options":{"seed":3}}],"seeds":[1]})")
            .find("methods[0].options.seed") != std::string::npos);
  CHECK(
      error_of(R"({"name":"x","methods":[{"name":"A","options":{"out":"f"}}],"seeds":[1]})").find("sets this option") !=
      std::string::npos);
  CHECK(error_of(R"({"name":"x","methods":[{"name":"A"},{"name":"A"}],"seeds":[1]})").find("appears twice") !=
        std::string::npos);
  CHECK(error_of(R"({"name":"x","methods":[{"name":"A_B"}],"seeds":[1]})").find("separates") != std::string::npos);
  CHECK(error_of(R"({"name":"../x","methods":[{"name":"A"}],"seeds":[1]})").find("is not a name") != std::string::npos);
  CHECK(error_of(R"({"name":"x","methods":[{"name":"A"}],"seeds":[-1]})").find("seeds") != std::string::npos);
  CHECK(error_of(R"({"name":"x","methods":[{"name":"A"}],"seeds":[]})").find("seeds") != std::string::npos);
  CHECK(error_of(R"({"name":"x","methods":[{"name":"A"}],"seeds":[1],"grid":{"lr":[]}})").find("grid.lr") !=
        std::string::npos);
  CHECK(error_of(R"({"name":"x","methods":[{"name":"A"}],"seeds":[1],"grid":{"lr":[0.1,0.1]}})").find("twice") !=
        std::string::npos);
  CHECK(error_of(R"({"name":"x","methods":[{"name":"A"}],"seeds":[1],"report":{"best_over":["lr"]}})")
            .find("not an axis") != std::string::npos);
  CHECK(error_of(R"({"name":"x","methods":[{"name":"A"}],"seeds":[1],"report":{"baseline":"Z"}})")
            .find("not one of the methods") != std::string::npos);
  CHECK(error_of(R"({"name":"x","methods":[{"name":"A"}],"seeds":[1],"report":{"targets":[1.5]}})").find("(0, 1]") !=
        std::string::npos);
  CHECK(error_of(R"({"name":"x","methods":[{"name":"A","options":{"--lr":1}}],"seeds":[1]})")
            .find("without its dashes") != std::string::npos);
  CHECK(error_of(R"({"name":"x","methods":[{"name":"A","options":{"lr":[1]}}],"seeds":[1]})")
            .find("a string, a number") != std::string::npos);
  // Two grid values that map to the same folder name.
  const rs::Study clash =
      rs::parse_study(R"({"name":"x","methods":[{"name":"A"}],"seeds":[1],"grid":{"speed":["a:1","a,1"]}})", "s.json");
  CHECK_THROWS_AS((void)rs::expand(clash), rnn::Error);
}

TEST_CASE("confidence intervals use Student's t with n - 1 degrees of freedom") {
  // Tabulated t(0.975): 12.706 (1 df), 4.303 (2 df), 2.262 (9 df).
  const rs::Estimate two = rs::estimate({1.0, 3.0});  // s = sqrt(2)
  CHECK(two.mean == doctest::Approx(2.0));
  CHECK(two.ci95 == doctest::Approx(12.7062 * std::sqrt(2.0) / std::sqrt(2.0)).epsilon(1e-4));
  const rs::Estimate three = rs::estimate({1.0, 2.0, 3.0});  // s = 1
  CHECK(three.ci95 == doctest::Approx(4.3027 / std::sqrt(3.0)).epsilon(1e-4));
  std::vector<double> ten;
  for (int i = 0; i < 10; ++i) ten.push_back(i);
  const double sd = std::sqrt(82.5 / 9.0);
  CHECK(rs::estimate(ten).ci95 == doctest::Approx(2.2622 * sd / std::sqrt(10.0)).epsilon(1e-4));
  CHECK(std::isnan(rs::estimate({5.0}).ci95));
  CHECK(rs::estimate({5.0}).mean == 5.0);
  CHECK(rs::estimate({}).n == 0);
}

TEST_CASE("first reach is the first evaluation point at or above the target") {
  std::vector<rs::Point> points(4);
  const double acc[] = {0.1, 0.8, 0.7, 0.95};
  for (std::size_t i = 0; i < 4; ++i) {
    points[i].updates = 100 * i;
    points[i].accuracy = acc[i];
    points[i].ingress_bytes = 1000.0 * static_cast<double>(i);
  }
  CHECK(rs::first_reach(points, 0.75)->updates == 100.0);
  CHECK(rs::first_reach(points, 0.8)->ingress_bytes == 1000.0);
  CHECK(rs::first_reach(points, 0.9)->updates == 300.0);
  CHECK_FALSE(rs::first_reach(points, 0.96).has_value());
}

TEST_CASE("the abandon rule looks at the first evaluation at or after its update only") {
  std::vector<rs::Point> points(4);
  const double acc[] = {0.1, 0.15, 0.5, 0.1};
  for (std::size_t i = 0; i < 4; ++i) {
    points[i].updates = 1000 * i;
    points[i].accuracy = acc[i];
  }
  CHECK(rs::abandon_index(points, {1000, 0.2}) == std::optional<std::size_t>{1});
  CHECK(rs::abandon_index(points, {1500, 0.2}) == std::nullopt);  // update 2000: 0.5
  CHECK(rs::abandon_index(points, {2000, 0.6}) == std::optional<std::size_t>{2});
  CHECK(rs::abandon_index(points, {5000, 0.9}) == std::nullopt);  // not there yet
  CHECK(rs::abandon_index(points, {0, 0.9}) == std::nullopt);     // no rule
  CHECK(rs::parse_study(
            R"({"name":"x","methods":[{"name":"A"}],"seeds":[1],"abandon":{"at_updates":5,"below_accuracy":0.3}})",
            "s.json")
            .abandon.at_updates == 5);
  CHECK(error_of(R"({"name":"x","methods":[{"name":"A"}],"seeds":[1],"abandon":{"at_updates":0,"below_accuracy":0.3}})")
            .find("abandon") != std::string::npos);
}

TEST_CASE("the summary reads run folders, skips unfinished runs and picks each method's best learning rate") {
  TempDir tmp;
  const rs::Study s = rs::parse_study(kStudy, "s.json");
  const rs::Expansion e = rs::expand(s);
  rs::QueueOptions q;
  q.train_exe = "/nowhere/rnnl-train";
  q.runs_dir = tmp.path / "runs";
  // A, lr 0.1: both seeds complete, ending at 0.9 and 0.8. A, lr 0.01: one seed diverged.
  finish_run(e.runs[0], q, "completed", {{0, 0.1}, {100, 0.6}, {200, 0.9}}, 100.0);
  finish_run(e.runs[1], q, "completed", {{0, 0.1}, {100, 0.4}, {200, 0.8}}, 100.0);
  finish_run(e.runs[2], q, "completed", {{0, 0.1}, {100, 0.95}, {200, 0.95}}, 100.0);
  finish_run(e.runs[3], q, "diverged", {{0, 0.1}, {100, 0.2}}, 100.0);
  // B, lr 0.1: one seed finished, the other not started. B, lr 0.01: both complete at 0.7.
  finish_run(e.runs[4], q, "completed", {{0, 0.1}, {100, 0.99}, {200, 0.99}}, 1.0);
  finish_run(e.runs[6], q, "completed", {{0, 0.1}, {100, 0.5}, {200, 0.7}}, 2.0);
  finish_run(e.runs[7], q, "completed", {{0, 0.1}, {100, 0.6}, {200, 0.7}}, 2.0);
  // A run whose status was written under other arguments is not finished.
  rs::RunSpec moved = e.runs[5];
  moved.arguments.back() = "99";
  finish_run(moved, q, "completed", {{0, 0.5}}, 1.0);
  std::filesystem::rename(q.runs_dir / moved.id / "status.json", q.runs_dir / e.runs[5].id / "status.json");
  std::filesystem::create_directories(q.runs_dir / e.runs[5].id);
  CHECK_FALSE(rs::finished_status(e.runs[5], q).has_value());
  CHECK(rs::finished_status(e.runs[4], q).has_value());

  const rs::Summary sum = rs::summarise(s, e, q);
  REQUIRE(sum.configurations.size() == 4);
  const rs::ConfigurationSummary& a01 = sum.configurations[0];
  CHECK(a01.finished == 2);
  CHECK(a01.final_accuracy.mean == doctest::Approx(0.85));
  CHECK(a01.final_accuracy.ci95 == doctest::Approx(12.7062 * std::sqrt(0.005) / std::sqrt(2.0)).epsilon(1e-4));
  CHECK(a01.reached == std::vector<std::size_t>{2, 1});  // targets 0.5, 0.9
  CHECK(a01.updates_to[0].mean == doctest::Approx(150.0));
  CHECK(sum.configurations[1].diverged == 1);
  CHECK_FALSE(sum.configurations[1].eligible());
  CHECK(sum.configurations[2].finished == 1);
  CHECK_FALSE(sum.configurations[2].eligible());
  REQUIRE(sum.groups.size() == 1);
  const rs::Group& g = sum.groups[0];
  CHECK(g.label == "speed=two-class:0.5,4");
  // A's best is lr 0.1 (the other diverged once); B's is lr 0.01 (lr 0.1 has a run missing).
  CHECK(g.best == std::vector<std::size_t>{0, 3});
  // Mean curves: A 0.1, 0.5, 0.85; B 0.1, 0.55, 0.7. The common target is 0.5 (0.9 is not reached by
  // either mean curve); both reach it at update 100.
  CHECK(g.common_target == doctest::Approx(0.5));
  REQUIRE(g.common[0].has_value());
  CHECK(g.common[0]->ingress_bytes == doctest::Approx(10000.0));
  CHECK(g.common[1]->ingress_bytes == doctest::Approx(200.0));
  // Preserved: A's mean final accuracy 0.85 minus 0.5 point; B's mean curve never gets there.
  CHECK(g.preserved_target == doctest::Approx(0.845));
  CHECK(g.preserved[0]->updates == doctest::Approx(200.0));
  CHECK_FALSE(g.preserved[1].has_value());

  rs::write_summary(s, e, sum, tmp.path);
  std::ifstream md(tmp.path / "summary.md");
  const std::string text((std::istreambuf_iterator<char>(md)), std::istreambuf_iterator<char>());
  CHECK(text.find("| A | A_lr=0.1_speed=two-class+0.5+4 | 85.00 ± ") != std::string::npos);
  CHECK(text.find("| B | 0.1 | 0.0 | 50.0 | 50.0× |") != std::string::npos);
  CHECK(text.find("2/2, 1 diverged") != std::string::npos);
  std::ifstream csv(tmp.path / "summary.csv");
  std::string header;
  std::string row;
  std::getline(csv, header);
  std::getline(csv, row);
  // The grid value with a comma is quoted, so every row has the header's columns.
  const auto columns = [](const std::string& line) {
    std::size_t n = 1;
    bool quoted = false;
    for (const char c : line) {
      if (c == '"') quoted = !quoted;
      if (c == ',' && !quoted) ++n;
    }
    return n;
  };
  CHECK(columns(row) == columns(header));
  CHECK(row.find("\"two-class:0.5,4\"") != std::string::npos);
}

TEST_CASE("--extend-best takes each method's best configuration on one seed, per group, to every seed") {
  TempDir tmp;
  const rs::Study s = rs::parse_study(R"({
    "name": "g", "options": {"model": "mlp"},
    "methods": [{"name": "A", "options": {"compressor": "none"}}, {"name": "B", "options": {"compressor": "adacomp"}}],
    "grid": {"lr": [0.1, 0.01], "workers": [10, 20]},
    "seeds": [1, 7],
    "report": {"best_over": ["lr"], "baseline": "A", "targets": [0.5]}
  })",
                                      "g.json");
  const rs::Expansion e = rs::expand(s);
  rs::QueueOptions q;
  q.train_exe = "/nowhere/rnnl-train";
  q.runs_dir = tmp.path / "runs";
  const auto run = [&](const std::string& id) {
    const auto it = std::find_if(e.runs.begin(), e.runs.end(), [&](const rs::RunSpec& r) { return r.id == id; });
    REQUIRE(it != e.runs.end());
    return *it;
  };
  const auto ends_at = [&](const std::string& id, const std::string& outcome, double accuracy) {
    finish_run(run(id), q, outcome, {{0, 0.1}, {100, 0.3}, {200, accuracy}}, 1.0);
  };
  // Seed 1, 10 workers: A is best at lr 0.01, B at lr 0.01 (lr 0.1 diverged).
  ends_at("A_lr=0.1_workers=10_seed=1", "completed", 0.9);
  ends_at("A_lr=0.01_workers=10_seed=1", "completed", 0.95);
  ends_at("B_lr=0.1_workers=10_seed=1", "diverged", 0.2);
  ends_at("B_lr=0.01_workers=10_seed=1", "completed", 0.7);
  // Seed 1, 20 workers: A is best at lr 0.1; B has no eligible rate (one failed, one diverged).
  ends_at("A_lr=0.1_workers=20_seed=1", "completed", 0.8);
  ends_at("A_lr=0.01_workers=20_seed=1", "completed", 0.6);
  ends_at("B_lr=0.1_workers=20_seed=1", "failed", 0.1);
  // Until every run of seed 1 has finished, no choice is made.
  CHECK_THROWS_WITH_AS((void)rs::runs_of_best_on_seed(s, e, q, 1),
                       "1 of the 8 runs of seed 1 have not finished; run them first (--seeds 1)", rnn::Error);
  ends_at("B_lr=0.01_workers=20_seed=1", "diverged", 0.2);
  // A run of seed 7 that would change the choice over all seeds does not change it here.
  ends_at("A_lr=0.1_workers=10_seed=7", "completed", 0.99);
  const std::vector<rs::RunSpec> runs = rs::runs_of_best_on_seed(s, e, q, 1);
  std::vector<std::string> ids;
  for (const rs::RunSpec& r : runs) ids.push_back(r.id);
  CHECK(ids == std::vector<std::string>{"A_lr=0.1_workers=20_seed=1", "A_lr=0.1_workers=20_seed=7",
                                        "A_lr=0.01_workers=10_seed=1", "A_lr=0.01_workers=10_seed=7",
                                        "B_lr=0.01_workers=10_seed=1", "B_lr=0.01_workers=10_seed=7"});
  // A finished run whose metrics cannot be read counts as unfinished: no choice on part of the grid.
  write(q.runs_dir / "A_lr=0.1_workers=10_seed=1" / "metrics.jsonl", "{\"updates\":");
  CHECK_THROWS_WITH_AS((void)rs::runs_of_best_on_seed(s, e, q, 1),
                       "1 of the 8 runs of seed 1 have not finished; run them first (--seeds 1)", rnn::Error);
  // On seed 7 only one run has finished: the choice waits for the rest.
  CHECK_THROWS_AS((void)rs::runs_of_best_on_seed(s, e, q, 7), rnn::Error);
  CHECK_THROWS_WITH_AS((void)rs::runs_of_best_on_seed(s, e, q, 5), "seed 5 is not one of the study's seeds (1, 7)",
                       rnn::Error);
}

TEST_CASE("a malformed metrics file is an error naming the file and line") {
  TempDir tmp;
  write(tmp.path / "m.jsonl",
        "{\"updates\":0,\"virtual_seconds\":0,\"wall_seconds\":0,\"ingress_bytes\":0,"
        "\"test_accuracy\":0.1,\"staleness_mean\":0,\"staleness_p99\":0,\"tau_mean\":0}\n{\"updates\":");
  try {
    (void)rs::read_points(tmp.path / "m.jsonl");
    FAIL("no error");
  } catch (const rnn::Error& e) {
    CHECK(std::string(e.what()).find("m.jsonl:2") != std::string::npos);
  }
  write(tmp.path / "n.jsonl", "{\"updates\":1}\n");
  CHECK_THROWS_AS((void)rs::read_points(tmp.path / "n.jsonl"), rnn::Error);
}
