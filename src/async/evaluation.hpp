#pragma once
// Test-set evaluation for the asynchronous runs, with a result that does not depend on how many
// threads computed it: the samples are cut into fixed chunks of `batch`, each chunk's loss sum is
// computed on one thread with single-threaded kernels, and the chunk sums are added in chunk order.
#include <span>
#include <vector>

#include "rnn/async/task_pool.hpp"
#include "rnn/async/worker.hpp"
#include "rnn/layers/softmax_cross_entropy.hpp"

namespace rnn::async_detail {

// Samples [first, first + count) of `data`, in evaluation mode.
[[nodiscard]] LossSum evaluate_chunk(const Model& model, std::span<const float> params, const Dataset& data,
                                     std::size_t first, std::size_t count, RoundScratch& scratch);

// The first `limit` samples (all if 0) on the pool; scratch has one entry per pool thread. Runs
// before any gradient task still queued.
[[nodiscard]] LossSum evaluate_on_pool(TaskPool& pool, std::vector<RoundScratch>& scratch, const Model& model,
                                       std::span<const float> params, const Dataset& data, std::size_t limit,
                                       int batch);

// The same on the calling thread alone (the caller holds a SingleThreadedKernels guard).
[[nodiscard]] LossSum evaluate_here(RoundScratch& scratch, const Model& model, std::span<const float> params,
                                    const Dataset& data, std::size_t limit, int batch);

}  // namespace rnn::async_detail
