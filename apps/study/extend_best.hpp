#pragma once
// The second step of "grid on one seed, chosen configurations on every seed": the runs that take
// each method's best configuration, in each group, to all the study's seeds. The best is chosen
// exactly as the summary chooses it (summary.hpp: highest mean final accuracy over the report's
// best_over axes, among configurations whose runs all completed), but over `seed`'s runs alone, so
// the choice is the one a `--seeds <seed>` summary shows and does not move as other seeds finish.
#include <cstdint>
#include <vector>

#include "run_queue.hpp"
#include "study_file.hpp"

namespace rnn::study {

// The runs (every seed, `seed`'s included) of the configurations that are some method's best on
// `seed`, in the expansion's order. Throws rnn::Error when `seed` is not one of the study's seeds or
// when one of its runs has not finished (the choice would be made on part of the grid).
[[nodiscard]] std::vector<RunSpec> runs_of_best_on_seed(const Study& study, const Expansion& expansion,
                                                        const QueueOptions& queue, std::uint64_t seed);

}  // namespace rnn::study
