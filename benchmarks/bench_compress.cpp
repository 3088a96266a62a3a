// Compression kernels at the sizes of the models in use (cnn: 421 642 parameters, rnl_deep:
// 1 332 224). Items/s = gradient entries/s (selection, compressors) or message bytes/s (codec).
//   TopKSelect / TopKSort   one top-1 % selection over the whole flat gradient: linear-time
//                           nth_element selection vs the O(n log n) full sort it replaces
//   TopKSelectScaling       the selection from 4 K to 4 M entries, with a fitted O(n) curve
//   Compress/<name>         a whole push through each compressor, per-tensor as AdaComp does
//   Encode / Decode         AdaComp c = 0.01 pushes through each index × value encoding
// Run: build/benchmarks/rnnl_bench_compress [--benchmark_filter=TopK]
#include <benchmark/benchmark.h>

#include <memory>
#include <utility>
#include <vector>

#include "rnn/compress/codec.hpp"
#include "rnn/compress/registry.hpp"
#include "rnn/compress/selection.hpp"
#include "rnn/core/rng.hpp"
#include "rnn/models/registry.hpp"

namespace {

const char* const model_names[] = {"cnn", "rnl_deep"};

const rnn::ParameterLayout& layout_of(std::int64_t model) {
  static const auto cnn = rnn::make_model("cnn");
  static const auto rnl_deep = rnn::make_model("rnl_deep");
  return model == 0 ? cnn->layout() : rnl_deep->layout();
}

// Heavy-tailed like real gradients (a few large entries, many small ones), so selection
// thresholds and varint gaps behave as they do in training.
std::vector<float> gradient(std::size_t n, std::uint64_t seed) {
  rnn::Rng rng(seed);
  std::vector<float> g(n);
  for (auto& v : g) v = rng.normal() * rng.normal() * rng.normal() * 1e-3F;
  return g;
}

void BM_TopKSelect(benchmark::State& state) {
  const auto g = gradient(layout_of(state.range(0)).size(), 1);
  const std::size_t k = g.size() / 100;
  std::vector<float> scratch;
  std::vector<std::uint32_t> indices;
  for (auto _ : state) {
    rnn::select_top_k(g, k, scratch, indices);
    benchmark::DoNotOptimize(indices.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(g.size()));
  state.SetLabel(model_names[state.range(0)]);
}

void BM_TopKSort(benchmark::State& state) {
  const auto g = gradient(layout_of(state.range(0)).size(), 1);
  const std::size_t k = g.size() / 100;
  std::vector<std::pair<float, std::uint32_t>> order;
  std::vector<std::uint32_t> indices;
  for (auto _ : state) {
    rnn::select_top_k_by_sort(g, k, order, indices);
    benchmark::DoNotOptimize(indices.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(g.size()));
  state.SetLabel(model_names[state.range(0)]);
}

void BM_Compress(benchmark::State& state) {
  const auto& layout = layout_of(state.range(1));
  const std::string& name = rnn::compressor_names()[static_cast<std::size_t>(state.range(0))];
  rnn::CompressorOptions options;
  options.name = name;
  auto compressor = rnn::make_compressor(options, layout);
  const auto g = gradient(layout.size(), 2);
  rnn::Message message;
  for (auto _ : state) {
    compressor->compress(g, message);
    compressor->commit(message);
    benchmark::DoNotOptimize(message.blocks.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(layout.size()));
  state.SetLabel(name + "/" + model_names[state.range(1)]);
}

rnn::CodecOptions codec_of(std::int64_t code) {
  return {static_cast<rnn::IndexEncoding>(code & 1), static_cast<rnn::ValueEncoding>(code >> 1), 127};
}

std::string codec_label(const rnn::CodecOptions& c, std::int64_t model) {
  return std::string(rnn::to_string(c.indices)) + "/" + std::string(rnn::to_string(c.values)) + "/" +
         model_names[model];
}

rnn::Message adacomp_push(const rnn::ParameterLayout& layout) {
  rnn::CompressorOptions options;
  auto compressor = rnn::make_compressor(options, layout);
  rnn::Message message;
  compressor->compress(gradient(layout.size(), 3), message);
  message.base_version = 123456;
  return message;
}

void BM_Encode(benchmark::State& state) {
  const auto& layout = layout_of(state.range(1));
  const auto codec = codec_of(state.range(0));
  const auto message = adacomp_push(layout);
  std::vector<std::uint8_t> bytes;
  for (auto _ : state) {
    rnn::encode(message, layout, codec, bytes);
    benchmark::DoNotOptimize(bytes.data());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(bytes.size()));
  state.counters["bytes_per_push"] = static_cast<double>(bytes.size());
  state.SetLabel(codec_label(codec, state.range(1)));
}

void BM_Decode(benchmark::State& state) {
  const auto& layout = layout_of(state.range(1));
  const auto codec = codec_of(state.range(0));
  std::vector<std::uint8_t> bytes;
  rnn::encode(adacomp_push(layout), layout, codec, bytes);
  rnn::Message decoded;
  for (auto _ : state) {
    rnn::decode(bytes, layout, decoded);
    benchmark::DoNotOptimize(decoded.blocks.data());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(bytes.size()));
  state.counters["bytes_per_push"] = static_cast<double>(bytes.size());
  state.SetLabel(codec_label(codec, state.range(1)));
}

void models(benchmark::internal::Benchmark* b) {
  b->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);
}

// Selection over growing sizes, to show the cost per entry stays flat (linear time).
void BM_TopKSelectScaling(benchmark::State& state) {
  const auto g = gradient(static_cast<std::size_t>(state.range(0)), 4);
  std::vector<float> scratch;
  std::vector<std::uint32_t> indices;
  for (auto _ : state) {
    rnn::select_top_k(g, g.size() / 100, scratch, indices);
    benchmark::DoNotOptimize(indices.data());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.SetComplexityN(state.range(0));
}
BENCHMARK(BM_TopKSelectScaling)->RangeMultiplier(4)->Range(1 << 12, 1 << 22)->Complexity(benchmark::oN);

void compressors(benchmark::internal::Benchmark* b) {
  for (std::int64_t c = 0; c < static_cast<std::int64_t>(rnn::compressor_names().size()); ++c)
    for (std::int64_t m : {0, 1}) b->Args({c, m});
  b->Unit(benchmark::kMillisecond);
}

void codecs(benchmark::internal::Benchmark* b) {
  for (std::int64_t c = 0; c < 8; ++c)
    for (std::int64_t m : {0, 1}) b->Args({c, m});
  b->Unit(benchmark::kMicrosecond);
}

BENCHMARK(BM_TopKSelect)->Apply(models);
BENCHMARK(BM_TopKSort)->Apply(models);
BENCHMARK(BM_Compress)->Apply(compressors);
BENCHMARK(BM_Encode)->Apply(codecs);
BENCHMARK(BM_Decode)->Apply(codecs);

}  // namespace

BENCHMARK_MAIN();
