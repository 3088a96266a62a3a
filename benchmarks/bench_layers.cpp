// Forward and backward of the RNL and Dense layers at MNIST-MLP sizes over batch sizes, on
// dense inputs (hidden layers) and on inputs with MNIST's density of non-zero pixels (~19 %,
// first layer). Items/s = samples/s. Run: build/benchmarks/rnnl_bench_layers [--benchmark_filter=Rnl]
#include <benchmark/benchmark.h>

#include <memory>

#include "rnn/layers/dense.hpp"
#include "rnn/layers/rnl.hpp"

namespace {

template <typename MakeLayer>
void run_layer(benchmark::State& state, MakeLayer make, bool backward) {
  const int in = static_cast<int>(state.range(1));
  const int out = static_cast<int>(state.range(2));
  const auto batch = static_cast<Eigen::Index>(state.range(0));
  std::unique_ptr<rnn::Layer> layer = make(in, out);
  rnn::ParameterLayout layout;
  layer->declare_parameters(layout, "l");
  std::vector<float> params(layout.size());
  rnn::Rng rng(1);
  layer->initialise(params, rng);
  std::vector<float> grad(layout.size());
  auto st = layer->make_state();
  const float density = static_cast<float>(state.range(3)) / 100.0F;
  rnn::Matrix x = rnn::Matrix::Random(batch, in).cwiseAbs();
  for (Eigen::Index i = 0; i < x.size(); ++i) {
    if (rng.uniform() >= density) x.data()[i] = 0.0F;
  }
  rnn::Matrix y;
  rnn::Matrix dx;
  const rnn::Matrix g = rnn::Matrix::Random(batch, out);
  for (auto _ : state) {
    layer->forward(params, x, y, st.get(), true);
    if (backward) layer->backward(params, x, y, g, &dx, grad, st.get());
    benchmark::DoNotOptimize(backward ? dx.data() : y.data());
  }
  state.SetItemsProcessed(state.iterations() * batch);
}

auto make_rnl = [](int in, int out) { return std::make_unique<rnn::RandomNeuralLayer>(in, out); };
auto make_dense = [](int in, int out) { return std::make_unique<rnn::Dense>(in, out); };

void BM_RnlForward(benchmark::State& s) {
  run_layer(s, make_rnl, false);
}
void BM_RnlForwardBackward(benchmark::State& s) {
  run_layer(s, make_rnl, true);
}
void BM_DenseForward(benchmark::State& s) {
  run_layer(s, make_dense, false);
}
void BM_DenseForwardBackward(benchmark::State& s) {
  run_layer(s, make_dense, true);
}

void sizes(benchmark::internal::Benchmark* b) {
  for (const int batch : {1, 16, 128, 512}) {
    b->Args({batch, 784, 512, 100});
    b->Args({batch, 784, 512, 19});
    b->Args({batch, 512, 512, 100});
  }
  b->ArgNames({"batch", "in", "out", "density%"})->UseRealTime();
}

BENCHMARK(BM_RnlForward)->Apply(sizes);
BENCHMARK(BM_RnlForwardBackward)->Apply(sizes);
BENCHMARK(BM_DenseForward)->Apply(sizes);
BENCHMARK(BM_DenseForwardBackward)->Apply(sizes);

}  // namespace

BENCHMARK_MAIN();
