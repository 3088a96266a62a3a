// The pieces of one asynchronous update, one thread, batch 10, real MNIST-shaped inputs:
//   Gradient/<model>     loss_and_gradient of one mini-batch (the bare cost of a worker's round)
//   WorkerRound/<model>  a whole worker round: batch, gradient, AdaComp c = 0.01, encode
//   ServerReceive/<model> the server's side of an AdaComp push: decode, per-parameter staleness at
//                         delay 99 (100 round-robin workers), apply
//   Snapshot/<model>     publishing a model copy for a fetch
// Run: build/benchmarks/rnnl_bench_async [--benchmark_filter=cnn]
#include <benchmark/benchmark.h>

#include <memory>
#include <vector>

#include "rnn/async/transport.hpp"
#include "rnn/async/worker.hpp"
#include "rnn/compress/codec.hpp"
#include "rnn/core/execution.hpp"
#include "rnn/core/rng.hpp"
#include "rnn/models/registry.hpp"
#include "rnn/server/parameter_server.hpp"

namespace {

const char* const model_names[] = {"cnn", "rnl_deep", "mlp"};

rnn::Dataset fake_mnist(std::size_t n) {
  rnn::Rng rng(3);
  rnn::Dataset d;
  d.shape = {28, 28, 1};
  d.images.resize(static_cast<Eigen::Index>(n), 784);
  for (Eigen::Index i = 0; i < d.images.size(); ++i) d.images.data()[i] = rng.uniform() < 0.8F ? 0.0F : rng.uniform();
  for (std::size_t i = 0; i < n; ++i) d.labels.push_back(static_cast<std::uint8_t>(rng.below(10)));
  return d;
}

struct Setup {
  explicit Setup(const char* name) : model(rnn::make_model(name)), params(model->initial_parameters(1)) {}
  std::unique_ptr<rnn::Model> model;
  std::vector<float> params;
  rnn::Dataset data = fake_mnist(1000);
};

std::unique_ptr<rnn::Worker> make_worker(const rnn::Model& model, std::size_t samples) {
  rnn::CompressorOptions c;
  c.name = "adacomp";
  c.ratio = 0.01;
  std::vector<std::uint32_t> shard(samples);
  for (std::size_t i = 0; i < samples; ++i) shard[i] = static_cast<std::uint32_t>(i);
  auto encoder =
      std::make_unique<rnn::PushEncoder>(model.layout(), rnn::make_compressor(c, model.layout()), rnn::CodecOptions{});
  return std::make_unique<rnn::Worker>(0, std::move(shard), std::move(encoder), 1);
}

void BM_Gradient(benchmark::State& state) {
  const rnn::SingleThreadedKernels single;
  const Setup s(model_names[state.range(0)]);
  rnn::RoundScratch scratch;
  scratch.workspace = s.model->make_workspace();
  std::vector<std::size_t> rows(10);
  std::vector<float> grad(s.model->parameter_count());
  std::size_t next = 0;
  for (auto _ : state) {
    for (auto& r : rows) r = next++ % s.data.size();
    rnn::gather_batch(s.data, rows, scratch.images, scratch.labels);
    benchmark::DoNotOptimize(
        s.model->loss_and_gradient(s.params, scratch.images, scratch.labels, grad, scratch.workspace));
  }
  state.SetLabel(model_names[state.range(0)]);
}

void BM_WorkerRound(benchmark::State& state) {
  const rnn::SingleThreadedKernels single;
  const Setup s(model_names[state.range(0)]);
  rnn::RoundScratch scratch;
  scratch.workspace = s.model->make_workspace();
  auto worker = make_worker(*s.model, s.data.size());
  for (auto _ : state) {
    benchmark::DoNotOptimize(worker->compute_round(*s.model, s.params, 0, s.data, 10, rnn::GradientShaping{}, scratch));
  }
  state.SetLabel(model_names[state.range(0)]);
}

void BM_ServerReceive(benchmark::State& state) {
  const rnn::SingleThreadedKernels single;
  const Setup s(model_names[state.range(0)]);
  // 100 workers' pushes, as a round-robin delivers them: each 99 updates stale.
  constexpr std::size_t workers = 100;
  rnn::RoundScratch scratch;
  scratch.workspace = s.model->make_workspace();
  std::vector<std::vector<std::uint8_t>> pushes;
  for (std::size_t w = 0; w < workers; ++w) {
    auto worker = make_worker(*s.model, s.data.size());
    (void)worker->compute_round(*s.model, s.params, 0, s.data, 10, rnn::GradientShaping{}, scratch);
    pushes.emplace_back(worker->push().begin(), worker->push().end());
  }
  rnn::ServerOptions o;
  o.learning_rate = 1e-6F;  // keep the parameters finite over millions of pushes
  rnn::ParameterServer server(s.model->layout(), s.params, o);
  // Rewrites a push's base version so that it arrives `workers` − 1 updates after its fetch.
  std::vector<std::uint8_t> bytes;
  rnn::Message message;
  std::size_t i = 0;
  for (auto _ : state) {
    state.PauseTiming();
    const std::uint64_t version = server.version();
    (void)rnn::decode(pushes[i % workers], s.model->layout(), message);
    message.base_version = version >= workers - 1 ? version - (workers - 1) : 0;
    rnn::encode(message, s.model->layout(), rnn::CodecOptions{}, bytes);
    ++i;
    state.ResumeTiming();
    benchmark::DoNotOptimize(server.receive(bytes));
  }
  state.SetLabel(model_names[state.range(0)]);
}

void BM_Snapshot(benchmark::State& state) {
  const Setup s(model_names[state.range(0)]);
  rnn::ServerOptions o;
  rnn::ParameterServer server(s.model->layout(), s.params, o);
  rnn::InProcessTransport transport(server);
  auto worker = make_worker(*s.model, s.data.size());
  rnn::RoundScratch scratch;
  scratch.workspace = s.model->make_workspace();
  (void)worker->compute_round(*s.model, s.params, 0, s.data, 10, rnn::GradientShaping{}, scratch);
  const std::vector<std::uint8_t> push(worker->push().begin(), worker->push().end());
  for (auto _ : state) {
    state.PauseTiming();
    (void)server.receive(push);  // a new version, so the fetch must copy
    state.ResumeTiming();
    benchmark::DoNotOptimize(transport.fetch(0));
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(s.params.size() * sizeof(float)));
  state.SetLabel(model_names[state.range(0)]);
}

}  // namespace

BENCHMARK(BM_Gradient)->DenseRange(0, 2)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_WorkerRound)->DenseRange(0, 2)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ServerReceive)->DenseRange(0, 2)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Snapshot)->DenseRange(0, 2)->Unit(benchmark::kMicrosecond);
BENCHMARK_MAIN();
