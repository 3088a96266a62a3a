// Cost of the parameter server per push on an AdaComp-like stream: the `cnn` model's layout
// (421 642 parameters, 8 segments), k = max(1, ⌊0.01 · n⌋) uniformly random indices per segment
// per push, and a fixed delay (the number of workers) with window = delay. Items/s = pushed
// entries/s.
//   BM_StalenessPush   the staleness bookkeeping alone: query τ of every pushed entry, record the push
//   BM_ServerStepApply the whole server step (validate, τ, scale, write, clamp, record) per policy
// Run: build/benchmarks/rnnl_bench_staleness [--benchmark_filter=delay:100]
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "rnn/core/rng.hpp"
#include "rnn/models/registry.hpp"
#include "rnn/server/staleness.hpp"
#include "rnn/server/step_policy.hpp"

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

void BM_StalenessPush(benchmark::State& state) {
  const auto delay = static_cast<std::uint64_t>(state.range(0));
  const auto model = rnn::make_model("cnn");
  const rnn::ParameterLayout& layout = model->layout();
  rnn::Rng rng(1);
  // A pool of pushes drawn up front, so the timed loop measures the tracker, not the sampling.
  std::vector<rnn::Message> pool;
  for (int i = 0; i < 64; ++i) pool.push_back(as_update(random_push(layout, rng)));
  std::size_t entries = 0;
  for (const auto& block : pool.front().blocks) entries += block.indices.size();

  rnn::StalenessTracker tracker(layout, static_cast<std::size_t>(delay));
  tracker.reserve_delay(delay);  // as the server does before its first push this old
  // Warm-up: fill the window, so chains have their steady-state length and buffers their capacity.
  for (std::uint64_t v = 0; v < delay; ++v) tracker.record(pool[v % pool.size()]);

  std::vector<std::uint32_t> tau;
  std::size_t next = 0;
  std::uint64_t tau_sum = 0;
  for (auto _ : state) {
    const rnn::Message& push = pool[next++ % pool.size()];
    const std::uint64_t base = tracker.version() - delay;
    for (const rnn::TensorBlock& block : push.blocks) {
      tau.resize(block.indices.size());
      tracker.staleness(base, block.segment, block.indices, tau);
      tau_sum += tau.back();
    }
    tracker.record(push);
  }
  benchmark::DoNotOptimize(tau_sum);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * entries));
  state.counters["entries/push"] = static_cast<double>(entries);
}

BENCHMARK(BM_StalenessPush)->ArgName("delay")->Arg(10)->Arg(100)->Arg(1000)->MinTime(0.5);

// Arguments: policy (0 plain, 1 global, 2 per-parameter), delay.
void BM_ServerStepApply(benchmark::State& state) {
  const auto policy = static_cast<rnn::StepPolicy>(state.range(0));
  const auto delay = static_cast<std::uint64_t>(state.range(1));
  const auto model = rnn::make_model("cnn");
  const rnn::ParameterLayout& layout = model->layout();
  rnn::Rng rng(1);
  std::vector<rnn::Message> pool;
  for (int i = 0; i < 64; ++i) pool.push_back(as_message(random_push(layout, rng), rng));
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

BENCHMARK(BM_ServerStepApply)->ArgNames({"policy", "delay"})->ArgsProduct({{0, 1, 2}, {100}})->MinTime(0.5);

}  // namespace

BENCHMARK_MAIN();
