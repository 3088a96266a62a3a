#pragma once
// A study file: a grid of asynchronous runs of rnnl-train, and how to report them.
//
// JSON (keys in any order; "//" keys are comments and ignored):
//   {
//     "name": "seed",                          folder-safe name of the study
//     "title": "…",                            a line for the summary's heading
//     "options": {"model": "cnn", "workers": 100, …},   rnnl-train options of every run
//     "methods": [{"name": "ASGD", "options": {"compressor": "none", "staleness": "plain"}}, …],
//     "grid": {"lr": [0.1, 0.05], "workers": [10, 100]},   every combination is a configuration
//     "seeds": [1, 2, 3],                      each configuration runs once per seed
//     "report": {"best_over": ["lr"], "baseline": "ASGD", "targets": [0.97, 0.98],
//                "preserved_points": 0.5},
//     "abandon": {"at_updates": 4000, "below_accuracy": 0.2}   optional
//   }
// "abandon": a run whose first evaluation at or after at_updates is below below_accuracy is stopped
// there (outcome "abandoned", its points after that evaluation ignored): a run still at chance
// after thousands of updates would only spend the machine's time.
// An option is rnnl-train's long option without its dashes; a value is a string, a number
// (written as in the file), true (a flag) or false (left out; in a method, it removes a flag the
// study's "options" set). A method's options and a grid
// point's value override "options". rnnl-study sets --trainer async, --seed, --out, --staleness-out,
// --threads and --no-progress itself, so a study may not set those (nor --checkpoint, --resume,
// --save, --load, --dry-run, --eval-only, --epochs, --help).
//
// A configuration is (method, one value per grid axis); a run is (configuration, seed). Their ids
// are folder names: "AdaComp", "AdaComp_lr=0.05", "AdaComp_lr=0.05_seed=1". Errors (rnn::Error)
// name the file and the offending key.
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace rnn::study {

using Options = std::vector<std::pair<std::string, std::string>>;  // (option, value); value "" for a flag

struct Method {
  std::string name;
  Options options;
};

struct Axis {
  std::string option;
  std::vector<std::string> values;
};

struct Report {
  std::vector<std::string> best_over;  // axes over which each method is reported at its best
  std::string baseline;                // method the byte reductions are against ("" : the first)
  std::vector<double> targets;         // test accuracies, in (0, 1]
  double preserved_points = 0.5;       // "preserved accuracy": at most this many points below the baseline
};

struct AbandonRule {
  std::uint64_t at_updates = 0;  // 0: no rule
  double below_accuracy = 0.0;
};

struct Study {
  std::string name;
  std::string title;
  Options options;
  std::vector<Method> methods;
  std::vector<Axis> grid;
  std::vector<std::uint64_t> seeds;
  Report report;
  AbandonRule abandon;
};

struct Configuration {
  std::string id;
  std::string method;
  std::vector<std::string> values;  // one per grid axis, in the grid's order
};

struct RunSpec {
  std::string id;
  std::size_t configuration = 0;  // index into the expansion's configurations
  std::uint64_t seed = 0;
  std::vector<std::string> arguments;  // rnnl-train's arguments, without --out/--threads/--no-progress
};

struct Expansion {
  std::vector<Configuration> configurations;
  std::vector<RunSpec> runs;  // configuration-major, then seed
};

[[nodiscard]] Study parse_study(const std::string& json_text, const std::string& file_name);
[[nodiscard]] Study load_study(const std::filesystem::path& path);
[[nodiscard]] Expansion expand(const Study& study);

// The value of `option` in a run of this configuration ("" when neither the study, the method nor
// the grid sets it).
[[nodiscard]] std::string option_value(const Study& study, const Configuration& configuration, std::string_view option);

}  // namespace rnn::study
