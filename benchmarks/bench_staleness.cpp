// Cost of the parameter server's staleness bookkeeping per push (query τ of every pushed
// entry, then record the push) on an AdaComp-like stream: the `cnn` model's layout (421 642
// parameters, 8 segments), k = max(1, ⌊0.01 · n⌋) uniformly random indices per segment per
// push, and a fixed delay (the number of workers) with window = delay. Items/s = pushed
// entries/s. Run: build/benchmarks/rnnl_bench_staleness [--benchmark_filter=delay:100]
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "rnn/core/rng.hpp"
#include "rnn/models/registry.hpp"
#include "rnn/server/staleness.hpp"

namespace {

using Push = std::vector<std::vector<std::uint32_t>>;  // per segment: sorted local indices

Push random_push(const rnn::ParameterLayout& layout, rnn::Rng& rng) {
  Push push;
  for (const rnn::Segment& s : layout.segments()) {
    const std::size_t k = std::max<std::size_t>(1, s.size() / 100);
    std::vector<char> taken(s.size(), 0);
    std::vector<std::uint32_t> indices;
    while (indices.size() < k) {
      const auto j = static_cast<std::uint32_t>(rng.below(s.size()));
      if (taken[j] == 0) {
        taken[j] = 1;
        indices.push_back(j);
      }
    }
    std::sort(indices.begin(), indices.end());
    push.push_back(std::move(indices));
  }
  return push;
}

void record(rnn::StalenessTracker& tracker, const Push& push) {
  tracker.begin_update();
  for (std::size_t s = 0; s < push.size(); ++s) tracker.touch(s, push[s]);
  tracker.end_update();
}

void BM_StalenessPush(benchmark::State& state) {
  const auto delay = static_cast<std::uint64_t>(state.range(0));
  const auto model = rnn::make_model("cnn");
  const rnn::ParameterLayout& layout = model->layout();
  rnn::Rng rng(1);
  // A pool of pushes drawn up front, so the timed loop measures the tracker, not the sampling.
  std::vector<Push> pool;
  for (int i = 0; i < 64; ++i) pool.push_back(random_push(layout, rng));
  std::size_t entries = 0;
  for (const auto& indices : pool.front()) entries += indices.size();

  rnn::StalenessTracker tracker(layout, static_cast<std::size_t>(delay));
  // Warm-up: fill the window, so chains have their steady-state length and buffers their capacity.
  for (std::uint64_t v = 0; v < delay; ++v) record(tracker, pool[v % pool.size()]);

  std::vector<std::uint32_t> tau;
  std::size_t next = 0;
  std::uint64_t tau_sum = 0;
  for (auto _ : state) {
    const Push& push = pool[next++ % pool.size()];
    const std::uint64_t base = tracker.version() - delay;
    for (std::size_t s = 0; s < push.size(); ++s) {
      tau.resize(push[s].size());
      tracker.staleness(base, s, push[s], tau);
      tau_sum += tau.back();
    }
    record(tracker, push);
  }
  benchmark::DoNotOptimize(tau_sum);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * entries));
  state.counters["entries/push"] = static_cast<double>(entries);
}

BENCHMARK(BM_StalenessPush)->ArgName("delay")->Arg(10)->Arg(100)->Arg(1000)->MinTime(0.5);

}  // namespace

BENCHMARK_MAIN();
