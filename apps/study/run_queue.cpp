#include "run_queue.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <algorithm>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "rnn/core/atomic_file.hpp"
#include "rnn/core/error.hpp"

extern char** environ;  // NOLINT(readability-redundant-declaration): POSIX, for posix_spawn

namespace rnn::study {
namespace {

using Json = nlohmann::ordered_json;

std::string last_line(const std::filesystem::path& log) {
  std::ifstream in(log);
  std::string line;
  std::string last;
  while (std::getline(in, line)) {
    if (!line.empty()) last = line;
  }
  return last;
}

bool log_mentions(const std::filesystem::path& log, std::string_view text) {
  std::ifstream in(log);
  std::string line;
  while (std::getline(in, line)) {
    if (line.find(text) != std::string::npos) return true;
  }
  return false;
}

struct Running {
  const RunSpec* run = nullptr;
  std::vector<std::string> command;
  std::chrono::steady_clock::time_point start;
  bool abandoned = false;  // stopped by the abandon rule
};

// Whether the run's metrics so far trigger the abandon rule (a metrics file being written may end
// in a partial line: it is then read again at the next poll).
bool triggers(const std::filesystem::path& metrics, const AbandonRule& rule) {
  try {
    return abandon_index(read_points(metrics), rule).has_value();
  } catch (const std::exception&) {
    return false;
  }
}

pid_t spawn(const std::vector<std::string>& command, const std::filesystem::path& log) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  std::vector<char*> argv;
  argv.reserve(command.size() + 1);
  for (const std::string& a : command) argv.push_back(const_cast<char*>(a.c_str()));  // NOLINT: POSIX's signature
  argv.push_back(nullptr);
  pid_t pid = 0;
  // posix_spawnp: a program name without a '/' is looked up on PATH.
  const int error = posix_spawnp(&pid, command.front().c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (error != 0) throw Error(fmt::format("cannot start {}: {}", command.front(), std::strerror(error)));
  return pid;
}

}  // namespace

std::string_view to_string(Outcome outcome) {
  switch (outcome) {
    case Outcome::completed: return "completed";
    case Outcome::diverged: return "diverged";
    case Outcome::failed: return "failed";
    case Outcome::abandoned: return "abandoned";
  }
  return "?";
}

std::vector<std::string> command_line(const RunSpec& run, const QueueOptions& options) {
  std::vector<std::string> command{options.train_exe.string()};
  command.insert(command.end(), run.arguments.begin(), run.arguments.end());
  command.insert(command.end(), options.extra_arguments.begin(), options.extra_arguments.end());
  const std::filesystem::path dir = options.runs_dir / run.id;
  command.insert(command.end(), {"--threads", "1", "--no-progress", "--out", (dir / "metrics.jsonl").string(),
                                 "--staleness-out", (dir / "staleness.csv").string()});
  return command;
}

std::optional<RunStatus> finished_status(const RunSpec& run, const QueueOptions& options) {
  const std::filesystem::path dir = options.runs_dir / run.id;
  std::ifstream in(dir / "status.json");
  if (!in) return std::nullopt;
  Json j;
  try {
    j = Json::parse(in);
    RunStatus s;
    const auto outcome = j.at("outcome").get<std::string>();
    if (outcome == "completed") {
      s.outcome = Outcome::completed;
    } else if (outcome == "diverged") {
      s.outcome = Outcome::diverged;
    } else if (outcome == "failed") {
      s.outcome = Outcome::failed;
    } else if (outcome == "abandoned") {
      s.outcome = Outcome::abandoned;
    } else {
      return std::nullopt;
    }
    s.exit_code = j.at("exit_code").get<int>();
    s.wall_seconds = j.at("wall_seconds").get<double>();
    s.message = j.at("message").get<std::string>();
    s.command = j.at("command").get<std::vector<std::string>>();
    // The run's own settings decide; where rnnl-train, the data and the output folder are does not
    // (the study may be resumed from another folder or with --data-dir).
    if (s.command.size() < run.arguments.size() + 1 ||
        !std::equal(run.arguments.begin(), run.arguments.end(), s.command.begin() + 1))
      return std::nullopt;
    if (!std::filesystem::exists(dir / "metrics.jsonl")) return std::nullopt;
    // A run the abandon rule stopped is not finished under a rule that would have let it go on.
    if (s.outcome == Outcome::abandoned && !abandon_index(read_points(dir / "metrics.jsonl"), options.abandon))
      return std::nullopt;
    return s;
  } catch (const std::exception&) {
    return std::nullopt;  // unreadable: the run is done again
  }
}

void check_runs(const std::vector<RunSpec>& runs, const QueueOptions& options) {
  std::vector<const RunSpec*> todo;
  std::vector<bool> seen;
  for (const RunSpec& run : runs) {
    if (run.configuration >= seen.size()) seen.resize(run.configuration + 1, false);
    if (seen[run.configuration] || finished_status(run, options)) continue;
    seen[run.configuration] = true;
    todo.push_back(&run);
  }
  std::filesystem::create_directories(options.runs_dir);
  std::map<pid_t, const RunSpec*> running;
  std::size_t next = 0;
  std::string problem;
  while (next < todo.size() || !running.empty()) {
    const bool stopped = options.stop != nullptr && options.stop->load();
    while (!stopped && problem.empty() && next < todo.size() &&
           running.size() < std::max<std::size_t>(1, options.jobs)) {
      const RunSpec& run = *todo[next++];
      std::vector<std::string> command{options.train_exe.string()};
      command.insert(command.end(), run.arguments.begin(), run.arguments.end());
      command.insert(command.end(), options.extra_arguments.begin(), options.extra_arguments.end());
      command.insert(command.end(), {"--threads", "1", "--no-progress", "--dry-run"});
      running.emplace(spawn(command, options.runs_dir / fmt::format(".check-{}.txt", run.id)), &run);
    }
    if (running.empty()) break;
    int wstatus = 0;
    const pid_t pid = ::waitpid(-1, &wstatus, 0);
    if (pid < 0) {
      if (errno == EINTR) continue;
      throw Error(fmt::format("waiting for the checks: {}", std::strerror(errno)));
    }
    const auto it = running.find(pid);
    if (it == running.end()) continue;
    const std::filesystem::path log = options.runs_dir / fmt::format(".check-{}.txt", it->second->id);
    const bool interrupted = WIFSIGNALED(wstatus) || (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 130);
    if (!interrupted && (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0)) {
      if (problem.empty())
        problem = fmt::format("run {}: rnnl-train refused its settings: {}", it->second->id, last_line(log));
    }
    std::filesystem::remove(log);
    running.erase(it);
  }
  if (!problem.empty()) throw Error(problem);
  if (options.stop != nullptr && options.stop->load()) return;  // the caller reports the interruption
  fmt::print("rnnl-study: the settings of {} configuration(s) checked (rnnl-train --dry-run)\n", todo.size());
}

bool run_all(const std::vector<RunSpec>& runs, const QueueOptions& options) {
  std::vector<const RunSpec*> pending;
  for (const RunSpec& run : runs) {
    if (!finished_status(run, options)) pending.push_back(&run);
  }
  // Seed by seed: a study stopped halfway has every configuration of its first seeds.
  std::stable_sort(pending.begin(), pending.end(), [&](const RunSpec* a, const RunSpec* b) {
    const auto rank = [&](const RunSpec* r) {
      for (std::size_t i = 0; i < runs.size(); ++i) {
        if (runs[i].configuration == r->configuration) return (r - &runs[i]);  // the seed's place in "seeds"
      }
      return std::ptrdiff_t{0};
    };
    return rank(a) < rank(b);
  });
  fmt::print("rnnl-study: {} runs, {} finished before, {} to run, {} at a time\n", runs.size(),
             runs.size() - pending.size(), pending.size(), options.jobs);
  std::fflush(stdout);
  std::map<pid_t, Running> running;
  std::size_t next = 0;
  std::size_t done = 0;
  std::string usage_error;
  bool forwarded = false;
  const auto stopping = [&] { return (options.stop != nullptr && options.stop->load()) || !usage_error.empty(); };
  // Whatever goes wrong here (a folder that cannot be written, a run that cannot start), the runs in
  // progress are stopped and reaped before the error leaves: none keeps the cores busy unwatched.
  try {
    while (next < pending.size() || !running.empty()) {
      while (!stopping() && next < pending.size() && running.size() < std::max<std::size_t>(1, options.jobs)) {
        const RunSpec& run = *pending[next++];
        const std::filesystem::path dir = options.runs_dir / run.id;
        std::filesystem::create_directories(dir);
        // An earlier attempt's files go first: the abandon rule must read this attempt's metrics.
        for (const char* file : {"status.json", "metrics.jsonl", "staleness.csv"}) std::filesystem::remove(dir / file);
        Running r{&run, command_line(run, options), std::chrono::steady_clock::now()};
        const pid_t pid = spawn(r.command, dir / "log.txt");
        running.emplace(pid, std::move(r));
      }
      if (running.empty()) break;
      if (stopping() && !forwarded) {
        // Stopped (Ctrl-C reaches the runs too, but a kill of rnnl-study alone does not): the runs stop
        // now, each with its metrics file complete, and run again from the start next time.
        for (const auto& [child, r] : running) ::kill(child, SIGTERM);
        forwarded = true;
      }
      int wstatus = 0;
      const bool poll = options.abandon.at_updates > 0 || !forwarded;
      const pid_t pid = ::waitpid(-1, &wstatus, poll ? WNOHANG : 0);
      if (pid < 0) {
        if (errno == EINTR) continue;
        throw Error(fmt::format("waiting for the runs: {}", std::strerror(errno)));
      }
      if (pid == 0) {  // none ended: apply the abandon rule, then wait a little
        for (auto& [child, r] : running) {
          if (!r.abandoned && triggers(options.runs_dir / r.run->id / "metrics.jsonl", options.abandon)) {
            r.abandoned = true;
            ::kill(child, SIGTERM);  // rnnl-train stops at once, its metrics file complete
          }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        continue;
      }
      const auto it = running.find(pid);
      if (it == running.end()) continue;
      const Running r = std::move(it->second);
      running.erase(it);
      ++done;
      const std::filesystem::path dir = options.runs_dir / r.run->id;
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - r.start).count();
      const std::string message = last_line(dir / "log.txt");
      const int code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1;
      RunStatus s;
      s.exit_code = code;
      if (r.abandoned) {
        s.outcome = Outcome::abandoned;
      } else if (code == 2) {
        usage_error = fmt::format("run {}: rnnl-train refused its command line: {}", r.run->id, message);
        continue;
      } else if (code != 0 && code != 1) {
        fmt::print("[{}/{}] {}: stopped ({}), will run again next time\n", done, pending.size(), r.run->id,
                   WIFSIGNALED(wstatus) ? fmt::format("signal {}", WTERMSIG(wstatus)) : fmt::format("exit {}", code));
        std::fflush(stdout);
        continue;
      } else if (code == 1 && !log_mentions(dir / "log.txt", ": diverged:") &&
                 !log_mentions(dir / "log.txt", "pushes in a row")) {
        // Neither a divergence nor a server that refused everything (both results): a machine problem
        // (disk full, out of memory…), which says nothing about the settings. Not recorded: it runs again.
        fmt::print("[{}/{}] {}: error ({}), will run again next time\n", done, pending.size(), r.run->id, message);
        std::fflush(stdout);
        continue;
      } else {
        s.outcome = code == 0 ? Outcome::completed
                              : (log_mentions(dir / "log.txt", ": diverged:") ? Outcome::diverged : Outcome::failed);
      }
      s.wall_seconds = seconds;
      s.message = message;
      s.command = r.command;
      Json j;
      j["run"] = r.run->id;
      j["outcome"] = to_string(s.outcome);
      j["exit_code"] = s.exit_code;
      j["wall_seconds"] = s.wall_seconds;
      j["message"] = s.message;
      j["command"] = s.command;
      write_file_atomically(dir / "status.json", j.dump(2) + "\n");
      fmt::print("[{}/{}] {} ({:.0f} s): {}\n", done, pending.size(), r.run->id, seconds,
                 r.abandoned ? fmt::format("abandoned (accuracy below {} at update {})", options.abandon.below_accuracy,
                                           options.abandon.at_updates)
                             : message);
      std::fflush(stdout);
    }
  } catch (...) {
    for (const auto& [child, r] : running) ::kill(child, SIGTERM);
    for (const auto& [child, r] : running) {
      int ignored = 0;
      while (::waitpid(child, &ignored, 0) < 0 && errno == EINTR) {
      }
    }
    throw;
  }
  if (!usage_error.empty()) throw Error(usage_error);
  // Complete when every run has its status (a run stopped by a signal or an error has none).
  return std::all_of(runs.begin(), runs.end(), [&](const RunSpec& run) { return finished_status(run, options); });
}

}  // namespace rnn::study
