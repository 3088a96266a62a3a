// rnnl-study: runs a study file's grid of asynchronous runs (rnnl-train processes, several at a
// time), skips the runs already finished, and writes the study's tables and plots:
//   <out>/runs/<run>/   each run's metrics.jsonl, staleness.csv, log.txt, status.json
//   <out>/summary.md, <out>/summary.csv, <out>/plots/*.{png,svg}
// Exit codes: 0 every run finished and the summary is written; 1 a runtime error (bad study file,
// a run that could not start, gnuplot failing, --extend-best before its seed has finished); 2 a bad command line; 130
// interrupted (Ctrl-C: the runs in progress stop, the summary covers what finished, and the next call goes on).
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <iterator>
#include <regex>
#include <thread>

#include <fmt/format.h>

#include "extend_best.hpp"
#include "folder_lock.hpp"
#include "option_checks.hpp"
#include "plots.hpp"
#include "rnn/core/error.hpp"
#include "run_queue.hpp"
#include "study_file.hpp"
#include "summary.hpp"

namespace {

std::atomic<bool> interrupted{false};

extern "C" void on_signal(int /*signal*/) {
  interrupted.store(true);
}

// rnnl-train beside this executable, else on PATH.
std::filesystem::path default_train_exe() {
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    for (const auto& candidate : {self.parent_path() / "rnnl-train", self.parent_path().parent_path() / "rnnl-train"}) {
      if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    }
  }
  return "rnnl-train";
}

// The runs whose id matches `pattern` (all of them if it is empty).
std::vector<rnn::study::RunSpec> select_runs(const std::vector<rnn::study::RunSpec>& runs, const std::string& pattern) {
  if (pattern.empty()) return runs;
  std::regex re;
  try {
    re = std::regex(pattern, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    throw rnn::cli::UsageError("--runs", fmt::format("'{}' is not a regular expression: {}", pattern, e.what()));
  }
  std::vector<rnn::study::RunSpec> selected;
  std::copy_if(runs.begin(), runs.end(), std::back_inserter(selected),
               [&](const rnn::study::RunSpec& run) { return std::regex_search(run.id, re); });
  if (selected.empty())
    throw rnn::cli::UsageError(
        "--runs", fmt::format("'{}' matches none of the study's {} runs (see --list)", pattern, runs.size()));
  return selected;
}

}  // namespace

int main(int argc, char** argv) {
  std::string study_path;
  std::string out;
  std::size_t jobs = std::max(1U, std::thread::hardware_concurrency());
  std::string train_exe;
  std::string data_dir;
  bool summary_only = false;
  bool list = false;
  bool no_plots = false;
  bool check_only = false;
  std::vector<std::uint64_t> only_seeds;
  std::string runs_pattern;
  std::uint64_t extend_best_seed = 0;
  CLI::App app{
      "Run a study: a grid of asynchronous rnnl-train runs (models x compressors x staleness policies x learning "
      "rates x workers x devices x seeds) from a JSON study file, then write summary.md, summary.csv and plots.\n"
      "Finished runs are kept and not run again, so an interrupted study goes on where it stopped.\n"
      "Example: rnnl-study studies/seed.json --out results/seed\n"
      "A large grid on one seed, then its chosen configurations on every seed:\n"
      "  rnnl-study studies/compressors.json --seeds 1 && rnnl-study studies/compressors.json --extend-best 1"};
  app.get_formatter()->column_width(30);
  app.add_option("study", study_path, "The study file (JSON; format in the README and apps/study/study_file.hpp)")
      ->required()
      ->check(CLI::ExistingFile);
  app.add_option("--out", out, "Folder of the study's runs and results (default: results/<study name>)");
  app.add_option("--jobs", jobs, "Runs at a time, each on one thread (default: the machine's cores)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1024}))
      ->capture_default_str();
  app.add_option("--train-exe", train_exe, "The rnnl-train to run (default: the one beside rnnl-study, else PATH)");
  app.add_option("--data-dir", data_dir, "Passed to every run (default: rnnl-train's own search)");
  auto* seeds_option =
      app.add_option(
             "--seeds", only_seeds,
             "Run and summarise only these of the study's seeds (e.g. --seeds 1 for a first look; the other seeds' "
             "finished runs stay in the folder)")
          ->delimiter(',');
  auto* runs_option = app.add_option(
      "--runs", runs_pattern,
      "Run only the runs whose id matches this regular expression (ECMAScript, searched in the id), e.g. "
      "'ASGD_lr=0\\.1_|AdaComp_lr=0\\.003_' (--extend-best picks each method's best for you); the summary "
      "still covers the whole study, and a configuration with unfinished runs is not a candidate for best");
  auto* extend_best = app.add_option(
      "--extend-best", extend_best_seed,
      "Run each method's best configuration on this seed (best as the summary picks it, over this seed's runs, "
      "which must all have finished) on every seed of the study, and nothing else");
  extend_best->excludes(seeds_option)->excludes(runs_option);
  app.add_flag("--summary-only", summary_only, "Run nothing: summarise the runs that have finished")
      ->excludes(extend_best);
  app.add_flag("--list", list, "Print each run's id and command line, and whether it has finished; run nothing");
  app.add_flag(
      "--check", check_only,
      "Check every unfinished configuration's settings with rnnl-train --dry-run (done before any study runs), "
      "then exit");
  app.add_flag("--no-plots", no_plots, "Do not draw the plots (no gnuplot needed)");
  app.failure_message([](const CLI::App*, const CLI::Error& e) {
    return fmt::format("rnnl-study: error: {} (see --help)\n", e.what());
  });
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }

  try {
    rnn::study::Study study = rnn::study::load_study(study_path);
    if (!only_seeds.empty()) {
      for (const std::uint64_t seed : only_seeds) {
        if (std::find(study.seeds.begin(), study.seeds.end(), seed) == study.seeds.end())
          throw rnn::cli::UsageError(
              "--seeds", fmt::format("{} is not one of the study's seeds ({})", seed, fmt::join(study.seeds, ", ")));
      }
      std::erase_if(study.seeds, [&](std::uint64_t seed) {
        return std::find(only_seeds.begin(), only_seeds.end(), seed) == only_seeds.end();
      });
    }
    if (extend_best->count() > 0 &&
        std::find(study.seeds.begin(), study.seeds.end(), extend_best_seed) == study.seeds.end())
      throw rnn::cli::UsageError("--extend-best", fmt::format("{} is not one of the study's seeds ({})",
                                                              extend_best_seed, fmt::join(study.seeds, ", ")));
    const rnn::study::Expansion expansion = rnn::study::expand(study);
    const std::filesystem::path dir =
        out.empty() ? std::filesystem::path("results") / study.name : std::filesystem::path(out);
    rnn::study::QueueOptions queue;
    queue.train_exe = train_exe.empty() ? default_train_exe() : std::filesystem::path(train_exe);
    queue.runs_dir = dir / "runs";
    queue.jobs = jobs;
    queue.stop = &interrupted;
    queue.abandon = study.abandon;
    if (!data_dir.empty()) queue.extra_arguments = {"--data-dir", data_dir};
    const bool by_best = extend_best->count() > 0;
    const auto choose_best = [&] {
      return rnn::study::runs_of_best_on_seed(study, expansion, queue, extend_best_seed);
    };
    std::vector<rnn::study::RunSpec> selected;
    if (!by_best) selected = select_runs(expansion.runs, runs_pattern);

    if (list) {
      for (const rnn::study::RunSpec& run : by_best ? choose_best() : selected) {
        const bool finished = rnn::study::finished_status(run, queue).has_value();
        fmt::print("{} [{}]\n  {}\n", run.id, finished ? "finished" : "to run",
                   fmt::join(rnn::study::command_line(run, queue), " "));
      }
      return 0;
    }
    if (check_only) {
      rnn::study::check_runs(by_best ? choose_best() : selected, queue);
      return 0;
    }
    const rnn::study::FolderLock lock(dir);
    // Chosen under the lock: another rnnl-study may still be writing the runs the choice reads.
    if (by_best) selected = choose_best();
    std::filesystem::create_directories(queue.runs_dir);
    bool complete = true;
    const auto start = std::chrono::steady_clock::now();
    if (!summary_only) {
      std::signal(SIGINT, on_signal);
      std::signal(SIGTERM, on_signal);
      rnn::study::check_runs(selected, queue);
      complete = rnn::study::run_all(selected, queue);
      std::signal(SIGINT, SIG_DFL);
      std::signal(SIGTERM, SIG_DFL);
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const rnn::study::Summary summary = rnn::study::summarise(study, expansion, queue);
    rnn::study::write_summary(study, expansion, summary, dir);
    std::size_t finished = 0;
    for (const auto& r : summary.runs) finished += r.finished ? 1 : 0;
    std::size_t images = 0;
    if (!no_plots) images = rnn::study::write_plots(study, expansion, summary, dir).size();
    fmt::print("rnnl-study: {} of {} runs finished ({:.1f} min this call); {} and {}{}\n", finished,
               summary.runs.size(), seconds / 60.0, (dir / "summary.md").string(), (dir / "summary.csv").string(),
               no_plots ? "" : fmt::format(", {} images in {}", images, (dir / "plots").string()));
    if (!complete) {
      fmt::print(stderr, "rnnl-study: interrupted; run the same command again to go on\n");
      return 130;
    }
    return 0;
  } catch (const rnn::cli::UsageError& e) {
    fmt::print(stderr, "rnnl-study: error: {} (see --help)\n", e.what());
    return 2;
  } catch (const rnn::Error& e) {
    fmt::print(stderr, "rnnl-study: error: {}\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "rnnl-study: unexpected error: {}\n", e.what());
    return 1;
  }
}
