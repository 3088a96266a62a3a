// A worker's round: what it does to its gradient before compressing it (clipping, per-tensor
// normalisation), checked on the dense push it encodes.
#include <doctest/doctest.h>

#include <cmath>
#include <memory>
#include <numeric>
#include <vector>

#include "rnn/async/worker.hpp"
#include "rnn/compress/codec.hpp"
#include "rnn/compress/registry.hpp"
#include "rnn/models/registry.hpp"
#include "train/synthetic.hpp"

namespace rnn {
namespace {

// The dense gradient a fresh worker pushes for its first batch under `shaping`.
std::vector<float> pushed_gradient(const Model& model, const Dataset& train, const GradientShaping& shaping) {
  CompressorOptions c;
  c.name = "none";
  std::vector<std::uint32_t> shard(train.size());
  std::iota(shard.begin(), shard.end(), 0U);
  Worker worker(0, shard,
                std::make_unique<PushEncoder>(model.layout(), make_compressor(c, model.layout()), CodecOptions{}), 7);
  RoundScratch scratch;
  scratch.workspace = model.make_workspace();
  const std::vector<float> params = model.initial_parameters(3);
  const RoundResult r = worker.compute_round(model, params, 0, train, 10, shaping, scratch);
  REQUIRE(r.finite);
  Message m;
  (void)decode(worker.push(), model.layout(), m);
  std::vector<float> g(model.parameter_count(), 0.0F);
  for (const TensorBlock& b : m.blocks) {
    REQUIRE(b.dense);
    std::copy(b.values.begin(), b.values.end(),
              g.begin() + static_cast<std::ptrdiff_t>(model.layout().segments()[b.segment].offset));
  }
  return g;
}

double tensor_norm(const std::vector<float>& g, const Segment& s) {
  double sum = 0.0;
  for (std::size_t i = s.offset; i < s.offset + s.size(); ++i) sum += static_cast<double>(g[i]) * g[i];
  return std::sqrt(sum);
}

}  // namespace

TEST_CASE("a worker normalises each tensor's gradient to unit l2 norm, keeping its direction") {
  const auto model = make_model("rnl_deep");
  const Dataset train = test::synthetic_digits(100, 1);
  const std::vector<float> raw = pushed_gradient(*model, train, GradientShaping{});
  GradientShaping normalise;
  normalise.normalise_tensors = true;
  const std::vector<float> unit = pushed_gradient(*model, train, normalise);
  for (const Segment& s : model->layout().segments()) {
    CAPTURE(s.name);
    const double norm = tensor_norm(raw, s);
    REQUIRE(norm > 0.0);
    CHECK(tensor_norm(unit, s) == doctest::Approx(1.0).epsilon(1e-5));
    for (std::size_t i = s.offset; i < s.offset + s.size(); i += 97)
      CHECK(unit[i] == doctest::Approx(raw[i] / norm).epsilon(1e-4));
  }
}

}  // namespace rnn
