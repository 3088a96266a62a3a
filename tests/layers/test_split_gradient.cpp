// Layer::split_gradient against the gradients backward() writes: for every way of splitting the
// parameters between threads, the blocks cover each parameter exactly once and hold the weighted
// sum of the shards' gradients, and Layer::split_ranges names each part's entries.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "rnn/core/error.hpp"
#include "rnn/layers/conv2d.hpp"
#include "rnn/layers/dense.hpp"
#include "rnn/layers/rnl.hpp"
#include "support/gradient_check.hpp"

namespace rnn {
namespace {

// Writes each block into a copy of the flat vector and counts how often every entry was written.
class RecordBlocks final : public GradientBlockSink {
 public:
  explicit RecordBlocks(std::size_t size) : values(size, std::numeric_limits<float>::quiet_NaN()), writes(size, 0) {}
  void operator()(std::size_t begin, std::size_t end, const float* gradient) override {
    REQUIRE(begin <= end);
    REQUIRE(end <= values.size());
    for (std::size_t i = begin; i < end; ++i) {
      values[i] = gradient[i - begin];
      ++writes[i];
    }
  }
  std::vector<float> values;
  std::vector<int> writes;
};

struct Shard {
  Matrix x;
  Matrix y;
  Matrix dy;
  std::unique_ptr<LayerState> state;
};

void check_split(const Layer& layer, const ParameterLayout& layout, std::size_t offset, std::span<const float> params,
                 std::vector<Shard>& shards, Rng& rng) {
  const auto total_rows = static_cast<float>([&] {
    Eigen::Index n = 0;
    for (const Shard& s : shards) n += s.x.rows();
    return n;
  }());
  // The reference: each shard's own backward() gradient, weighted by its share of the rows.
  std::vector<double> reference(layout.size(), 0.0);
  std::vector<GradientSource> sources;
  for (Shard& s : shards) {
    const auto whole_state = layer.make_state();
    layer.forward(params, s.x, s.y, whole_state.get(), true);
    s.dy = test::random_matrix(s.y.rows(), s.y.cols(), rng, -1.0F, 1.0F);
    std::vector<float> grad(layout.size(), 0.0F);
    Matrix dx_whole;
    layer.backward(params, s.x, s.y, s.dy, &dx_whole, grad, whole_state.get());
    const float weight = static_cast<float>(s.x.rows()) / total_rows;
    for (std::size_t i = 0; i < grad.size(); ++i) reference[i] += static_cast<double>(weight) * grad[i];
    // A state of its own that only forward and backward_input have seen: the same ∂L/∂x, and what
    // split_gradient reads.
    s.state = layer.make_state();
    Matrix y;
    layer.forward(params, s.x, y, s.state.get(), true);
    Matrix dx_split;
    layer.backward_input(params, s.x, y, s.dy, &dx_split, s.state.get());
    CHECK(dx_split == dx_whole);
    sources.push_back({&s.x, s.state.get(), weight});
  }
  const std::size_t size = layout.size() - offset;
  for (const std::size_t parts : {1, 2, 3, 7}) {
    CAPTURE(parts);
    RecordBlocks blocks(layout.size());
    // As in the trainer, the scratch is one of the sources' own states for odd part counts.
    auto fresh = layer.make_state();
    LayerState* scratch = parts % 2 == 1 ? shards[0].state.get() : fresh.get();
    for (std::size_t part = 0; part < parts; ++part) {
      RecordBlocks mine(layout.size());
      layer.split_gradient(sources, part, parts, scratch, mine);
      // split_ranges names exactly the entries this part's blocks wrote (the trainer evicts the
      // other parts' ranges from its caches on the strength of it).
      std::vector<int> named(layout.size(), 0);
      layer.split_ranges(part, parts, [&](std::size_t begin, std::size_t end) {
        REQUIRE(begin <= end);
        REQUIRE(end <= named.size());
        for (std::size_t i = begin; i < end; ++i) ++named[i];
      });
      CHECK(named == mine.writes);
      for (std::size_t i = 0; i < layout.size(); ++i) {
        if (mine.writes[i] == 0) continue;
        blocks.values[i] = mine.values[i];
        blocks.writes[i] += mine.writes[i];
      }
    }
    int wrong = 0;
    for (std::size_t i = offset; i < offset + size; ++i) {
      REQUIRE(blocks.writes[i] == 1);
      if (std::abs(blocks.values[i] - reference[i]) > 1e-5 * (1.0 + std::abs(reference[i]))) ++wrong;
    }
    CHECK(wrong == 0);
    for (std::size_t i = 0; i < offset; ++i) CHECK(blocks.writes[i] == 0);
  }
}

}  // namespace

TEST_CASE("rnl split gradient equals the weighted sum of the shards' gradients") {
  Rng rng(31);
  // Widths that give one block per part (20 outputs) and many (600 outputs: 6 rows a block), with
  // row counts that do not divide evenly between the parts.
  for (const auto& shape : {std::pair{37, 20}, std::pair{45, 600}}) {
    const int inputs = shape.first;
    const int outputs = shape.second;
    CAPTURE(inputs);
    CAPTURE(outputs);
    RandomNeuralLayer layer(inputs, outputs);
    ParameterLayout layout;
    layout.add("before", 3, 1, false);  // the layer's range does not start at 0
    layer.declare_parameters(layout, "r");
    std::vector<float> params(layout.size());
    layer.initialise(params, rng);
    // One shard on the sparse (pixel) path, one dense, and one of a single row.
    std::vector<Shard> shards(3);
    shards[0].x = test::random_matrix(5, inputs, rng, 0.0F, 1.0F);
    test::zero_out(shards[0].x, 0.85F, rng);
    shards[1].x = test::random_matrix(4, inputs, rng, 0.0F, 1.0F);
    shards[2].x = test::random_matrix(1, inputs, rng, 0.0F, 1.0F);
    test::zero_out(shards[2].x, 0.8F, rng);
    check_split(layer, layout, 3, params, shards, rng);
  }
}

TEST_CASE("rnl split gradient over no shards is zero") {
  Rng rng(32);
  RandomNeuralLayer layer(9, 4);
  ParameterLayout layout;
  layer.declare_parameters(layout, "r");
  RecordBlocks blocks(layout.size());
  auto scratch = layer.make_state();
  for (std::size_t part = 0; part < 2; ++part) layer.split_gradient({}, part, 2, scratch.get(), blocks);
  for (std::size_t i = 0; i < layout.size(); ++i) {
    CHECK(blocks.writes[i] == 1);
    CHECK(blocks.values[i] == 0.0F);
  }
}

TEST_CASE("dense split gradient equals the weighted sum of the shards' gradients") {
  Rng rng(33);
  // Rows of 9 inputs give blocks of many rows; rows of 5000 inputs, blocks of one row.
  for (const auto& shape : {std::pair{9, 23}, std::pair{5000, 5}}) {
    const int inputs = shape.first;
    const int outputs = shape.second;
    CAPTURE(inputs);
    CAPTURE(outputs);
    Dense layer(inputs, outputs, AffineInit{WeightInit::he_uniform, 0.1F, 0.1F});
    ParameterLayout layout;
    layout.add("before", 2, 1, false);
    layer.declare_parameters(layout, "d");
    std::vector<float> params(layout.size());
    layer.initialise(params, rng);
    std::vector<Shard> shards(3);
    shards[0].x = test::random_matrix(3, inputs, rng, -1.0F, 1.0F);
    shards[1].x = test::random_matrix(5, inputs, rng, -1.0F, 1.0F);
    shards[2].x = test::random_matrix(1, inputs, rng, -1.0F, 1.0F);
    check_split(layer, layout, 2, params, shards, rng);
  }
}

TEST_CASE("a layer that does not split its gradient says so, and refuses to") {
  Conv2D layer(Shape{4, 4, 1}, 2);
  ParameterLayout layout;
  layer.declare_parameters(layout, "c");
  CHECK_FALSE(layer.splits_gradient());
  CHECK(RandomNeuralLayer(4, 3).splits_gradient());
  CHECK(Dense(4, 3).splits_gradient());
  RecordBlocks blocks(layout.size());
  auto state = layer.make_state();
  CHECK_THROWS_AS(layer.split_gradient({}, 0, 1, state.get(), blocks), Error);
  CHECK_THROWS_AS(layer.split_ranges(0, 1, [](std::size_t, std::size_t) {}), Error);
  const Matrix x = Matrix::Ones(2, 16);
  Matrix dx;
  CHECK_THROWS_AS(layer.backward_input(std::vector<float>(layout.size()), x, x, x, &dx, state.get()), Error);
}

}  // namespace rnn
