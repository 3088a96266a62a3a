#include "extend_best.hpp"

#include <algorithm>
#include <iterator>
#include <set>

#include <fmt/format.h>

#include "rnn/core/error.hpp"
#include "summary.hpp"

namespace rnn::study {

std::vector<RunSpec> runs_of_best_on_seed(const Study& study, const Expansion& expansion, const QueueOptions& queue,
                                          std::uint64_t seed) {
  if (std::find(study.seeds.begin(), study.seeds.end(), seed) == study.seeds.end())
    throw Error(fmt::format("seed {} is not one of the study's seeds ({})", seed, fmt::join(study.seeds, ", ")));
  Study on_seed = study;
  on_seed.seeds = {seed};
  const Expansion one = expand(on_seed);
  // Counted on the summary's reading: a run whose metrics cannot be read counts as unfinished there,
  // and a choice must not be made on part of the grid.
  const Summary summary = summarise(on_seed, one, queue);
  const auto unfinished =
      std::count_if(summary.runs.begin(), summary.runs.end(), [](const RunResult& run) { return !run.finished; });
  if (unfinished > 0)
    throw Error(fmt::format("{} of the {} runs of seed {} have not finished; run them first (--seeds {})", unfinished,
                            one.runs.size(), seed, seed));
  std::set<std::size_t> best;
  for (const Group& group : summary.groups) {
    for (const std::size_t c : group.best) {
      if (c < one.configurations.size()) best.insert(c);  // a method without an eligible configuration has none
    }
  }
  std::vector<RunSpec> runs;
  std::copy_if(expansion.runs.begin(), expansion.runs.end(), std::back_inserter(runs),
               [&](const RunSpec& run) { return best.contains(run.configuration); });
  return runs;
}

}  // namespace rnn::study
