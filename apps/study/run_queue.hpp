#pragma once
// Runs a study's runs as rnnl-train processes, `jobs` at a time, each on one thread, and records
// each one's outcome. A run's folder holds:
//   metrics.jsonl   the run's evaluation points (rnnl-train --out)
//   staleness.csv   the delays of the pushes the server applied (rnnl-train --staleness-out)
//   log.txt         what rnnl-train printed (stdout and stderr)
//   status.json     written atomically once the process has ended: its command line, exit code,
//                   outcome and wall time.
// A run is finished when its status.json holds the same rnnl-train arguments (where rnnl-train, the
// data and the outputs are does not matter); any other run (never started, interrupted, killed,
// started under other settings, or abandoned under a stricter rule than the study's now) runs from
// its beginning. Outcomes, each a result: completed (exit 0), diverged (exit 1 after a divergence),
// failed (exit 1: the server refused every push), abandoned (stopped by the study's abandon rule,
// checked on the metrics file while the run goes on). Another exit 1 (disk full, out of memory)
// or a signal leaves no status: the run runs again. An exit 2 is a command line rnnl-train refuses:
// a mistake in the study file, which ends the study.
#include <atomic>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "points.hpp"
#include "study_file.hpp"

namespace rnn::study {

enum class Outcome { completed, diverged, failed, abandoned };
[[nodiscard]] std::string_view to_string(Outcome outcome);

struct RunStatus {
  Outcome outcome = Outcome::completed;
  int exit_code = 0;
  double wall_seconds = 0.0;
  std::string message;  // the run's last line of output
  std::vector<std::string> command;
};

struct QueueOptions {
  std::filesystem::path train_exe;           // rnnl-train
  std::filesystem::path runs_dir;            // one folder per run inside
  std::vector<std::string> extra_arguments;  // e.g. --data-dir DIR, given to every run
  std::size_t jobs = 1;
  AbandonRule abandon;
  const std::atomic<bool>* stop = nullptr;  // no new run starts once true
};

// The command line of a run (rnnl-train and its arguments, the run's own paths included).
[[nodiscard]] std::vector<std::string> command_line(const RunSpec& run, const QueueOptions& options);

// The status of a finished run whose command line matches, if any.
[[nodiscard]] std::optional<RunStatus> finished_status(const RunSpec& run, const QueueOptions& options);

// Checks the command line of one unfinished run of each configuration with rnnl-train --dry-run
// (options, model and data; nothing is trained or written), `jobs` at a time, so that a study
// never stops halfway on a setting rnnl-train refuses. Throws rnn::Error naming the run and
// rnnl-train's message.
void check_runs(const std::vector<RunSpec>& runs, const QueueOptions& options);

// Runs every unfinished run, seed by seed (every configuration with the first seed, then the
// second…). Prints a line per run. Returns true when every run has finished; throws rnn::Error if a run exits with 2
// (naming the run and rnnl-train's message) or cannot start.
bool run_all(const std::vector<RunSpec>& runs, const QueueOptions& options);

}  // namespace rnn::study
