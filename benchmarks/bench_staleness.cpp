// Cost of the parameter server per push on an AdaComp-like stream: the `cnn` model's layout
// (421 642 parameters, 8 segments), k = max(1, ⌊0.01 · n⌋) random indices per segment per push,
// and a fixed delay (the number of workers) with window = delay. Items/s = pushed entries/s.
//   BM_StalenessPush   the staleness bookkeeping alone, as the server does it: widen the records
//                      for the delay (once), then τ of every pushed entry and the record, in one pass
//   BM_ServerStepApply the whole server step (validate, τ, scale, write, clamp, record) per policy
// Streams: `overlap` 0 draws each push's indices uniformly from its tensor; 1 draws them from a
// fixed set of 4 k per tensor, so that pushes overlap as top-1 % selections of real training do
// (mean τ ≈ delay / 4; cnn on MNIST gave τ ≈ 27 at delay 99).
// Run: build/benchmarks/rnnl_bench_staleness [--benchmark_filter=delay:100]
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "rnn/core/rng.hpp"
#include "rnn/models/registry.hpp"
#include "rnn/server/staleness.hpp"
#include "rnn/server/step_policy.hpp"

namespace {

using Push = std::vector<std::vector<std::uint32_t>>;  // per segment: sorted local indices

// Enough pushes that a push's own earlier copies add little to τ at delay 1000 (each recurs
// about 4 times in the window).
constexpr int pool_size = 256;

// k indices per segment, uniform over the segment or (overlap) over a fixed set of 4 k of its
// indices spread across it.
Push random_push(const rnn::ParameterLayout& layout, rnn::Rng& rng, bool overlap) {
  Push push;
  for (const rnn::Segment& s : layout.segments()) {
    const std::size_t k = std::max<std::size_t>(1, s.size() / 100);
    const std::size_t range = overlap ? std::min(s.size(), 4 * k) : s.size();
    std::vector<char> taken(s.size(), 0);
    std::vector<std::uint32_t> indices;
    while (indices.size() < k) {
      std::uint64_t j = rng.below(range);
      if (overlap) j = j * s.size() / range;  // the hot set, spread over the tensor
      if (taken[j] == 0) {
        taken[j] = 1;
        indices.push_back(static_cast<std::uint32_t>(j));
      }
    }
    std::sort(indices.begin(), indices.end());
    push.push_back(std::move(indices));
  }
  return push;
}

// The push as an update for the tracker: one sparse block per segment, no values (it reads none).
rnn::Message as_update(const Push& push) {
  rnn::Message update;
  for (std::size_t s = 0; s < push.size(); ++s) {
    rnn::TensorBlock& block = update.blocks.emplace_back();
    block.segment = static_cast<std::uint32_t>(s);
    block.indices = push[s];
  }
  return update;
}

// The same push with values, for the server step.
rnn::Message as_message(const Push& push, rnn::Rng& rng) {
  rnn::Message message = as_update(push);
  for (rnn::TensorBlock& block : message.blocks) {
    for (std::size_t j = 0; j < block.indices.size(); ++j) block.values.push_back(0.01F * rng.normal());
  }
  return message;
}

// Arguments: delay, overlap.
void BM_StalenessPush(benchmark::State& state) {
  const auto delay = static_cast<std::uint64_t>(state.range(0));
  const bool overlap = state.range(1) != 0;
  const auto model = rnn::make_model("cnn");
  const rnn::ParameterLayout& layout = model->layout();
  rnn::Rng rng(1);
  // A pool of pushes drawn up front, so the timed loop measures the tracker, not the sampling.
  std::vector<rnn::Message> pool;
  for (int i = 0; i < pool_size; ++i) pool.push_back(as_update(random_push(layout, rng, overlap)));
  std::size_t entries = 0;
  for (const auto& block : pool.front().blocks) entries += block.indices.size();

  rnn::StalenessTracker tracker(layout, static_cast<std::size_t>(delay));
  tracker.reserve_delay(delay);  // as the server does before its first push this old
  // Warm-up: fill the window, so the history and the records are in their steady state.
  for (std::uint64_t v = 0; v < delay + pool.size(); ++v) tracker.record(pool[v % pool.size()]);

  std::vector<std::uint32_t> tau(entries);
  std::size_t next = 0;
  std::uint64_t tau_sum = 0;
  for (auto _ : state) {
    const rnn::Message& push = pool[next++ % pool.size()];
    tracker.count_and_record(push, tracker.version() - delay, tau);
    tau_sum += tau.back();
  }
  benchmark::DoNotOptimize(tau_sum);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * entries));
  state.counters["entries/push"] = static_cast<double>(entries);
  std::uint64_t sum = 0;
  for (const std::uint32_t t : tau) sum += t;
  state.counters["mean_tau"] = static_cast<double>(sum) / static_cast<double>(entries);
}

BENCHMARK(BM_StalenessPush)->ArgNames({"delay", "overlap"})->ArgsProduct({{10, 100, 1000}, {0, 1}})->MinTime(0.5);

// Arguments: policy (0 plain, 1 global, 2 per-parameter), delay, overlap.
void BM_ServerStepApply(benchmark::State& state) {
  const auto policy = static_cast<rnn::StepPolicy>(state.range(0));
  const auto delay = static_cast<std::uint64_t>(state.range(1));
  const bool overlap = state.range(2) != 0;
  const auto model = rnn::make_model("cnn");
  const rnn::ParameterLayout& layout = model->layout();
  rnn::Rng rng(1);
  std::vector<rnn::Message> pool;
  for (int i = 0; i < pool_size; ++i) pool.push_back(as_message(random_push(layout, rng, overlap), rng));
  std::vector<float> params = model->initial_parameters(1);

  rnn::ServerStep server(layout, policy, 0.01F, static_cast<std::size_t>(delay));
  std::size_t next = 0;
  const auto push = [&] {
    rnn::Message& message = pool[next++ % pool.size()];
    message.base_version = server.version() > delay ? server.version() - delay : 0;
    return server.apply(message, params).entries;
  };
  for (std::uint64_t v = 0; v < delay + pool.size(); ++v) push();  // fills the window and every buffer
  std::size_t entries = 0;
  for (auto _ : state) entries += push();
  benchmark::DoNotOptimize(params.data());
  state.SetLabel(std::string(rnn::to_string(policy)));
  state.SetItemsProcessed(static_cast<std::int64_t>(entries));
}

BENCHMARK(BM_ServerStepApply)
    ->ArgNames({"policy", "delay", "overlap"})
    ->ArgsProduct({{0, 1, 2}, {100, 1000}, {0}})
    ->Args({2, 100, 1})
    ->Args({2, 1000, 1})
    ->MinTime(0.5);

}  // namespace

BENCHMARK_MAIN();
