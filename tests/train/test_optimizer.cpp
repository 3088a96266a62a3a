#include <doctest/doctest.h>

#include <omp.h>

#include <cmath>
#include <vector>

#include "rnn/core/error.hpp"
#include "rnn/core/rng.hpp"
#include "rnn/train/optimizer.hpp"

namespace rnn {
namespace {

// n unconstrained parameters.
ParameterLayout free_layout(std::size_t n) {
  ParameterLayout layout;
  layout.add("theta", 1, n, false);
  return layout;
}

// Minimises f(θ) = Σ c_i (θ_i − t_i)² and returns the final distance to the optimum.
double minimise(OptimizerOptions options, int steps) {
  const std::vector<float> target{1.0F, -2.0F, 0.5F, 3.0F};
  const std::vector<float> curvature{1.0F, 10.0F, 0.1F, 2.0F};
  std::vector<float> theta(4, 0.0F);
  std::vector<float> grad(4);
  auto opt = make_optimizer(options, free_layout(theta.size()));
  for (int s = 0; s < steps; ++s) {
    for (std::size_t i = 0; i < 4; ++i) grad[i] = 2.0F * curvature[i] * (theta[i] - target[i]);
    opt->step(theta, grad);
  }
  double d = 0.0;
  for (std::size_t i = 0; i < 4; ++i) d += std::pow(theta[i] - target[i], 2.0);
  return std::sqrt(d);
}

// Non-negative, free, non-negative: segments that merged ranges and cuts can straddle.
ParameterLayout three_segments() {
  ParameterLayout layout;
  layout.add("a", 3, 50, true);
  layout.add("b", 1, 37, false);
  layout.add("c", 40, 20, true);
  return layout;
}

}  // namespace

TEST_CASE("plain sgd takes exactly θ − η g") {
  OptimizerOptions o{OptimizerKind::sgd, 0.5F, 0.0F};
  auto opt = make_optimizer(o, free_layout(2));
  std::vector<float> p{1.0F, 2.0F};
  const std::vector<float> g{0.2F, -0.4F};
  opt->step(p, g);
  CHECK(p[0] == doctest::Approx(0.9));
  CHECK(p[1] == doctest::Approx(2.2));
}

TEST_CASE("adam's first step has magnitude lr in every coordinate") {
  OptimizerOptions o;
  o.learning_rate = 0.01F;
  auto opt = make_optimizer(o, free_layout(3));
  std::vector<float> p{0.0F, 0.0F, 0.0F};
  const std::vector<float> g{1e-3F, -5.0F, 100.0F};
  opt->step(p, g);
  CHECK(p[0] == doctest::Approx(-0.01).epsilon(1e-3));
  CHECK(p[1] == doctest::Approx(0.01).epsilon(1e-3));
  CHECK(p[2] == doctest::Approx(-0.01).epsilon(1e-3));
}

TEST_CASE("every optimizer converges on an ill-conditioned quadratic") {
  CHECK(minimise({OptimizerKind::sgd, 0.02F, 0.9F}, 3000) < 1e-3);
  CHECK(minimise({OptimizerKind::adam, 0.05F}, 3000) < 1e-2);
  OptimizerOptions rms{OptimizerKind::rmsprop, 0.01F};
  CHECK(minimise(rms, 3000) < 5e-2);
}

TEST_CASE("optimizer names and invalid options") {
  CHECK(parse_optimizer("rmsprop") == OptimizerKind::rmsprop);
  CHECK(optimizer_name(OptimizerKind::adam) == "adam");
  CHECK_THROWS_AS((void)parse_optimizer("lbfgs"), Error);
  CHECK_THROWS_AS((void)make_optimizer(OptimizerOptions{OptimizerKind::sgd, -1.0F}, free_layout(3)), Error);
  CHECK_THROWS_AS((void)make_optimizer(OptimizerOptions{OptimizerKind::adam, std::nanf("")}, free_layout(3)), Error);
}

TEST_CASE("an optimizer built from a layout keeps non-negative segments non-negative, only those") {
  ParameterLayout layout;
  layout.add("free", 1, 3, false);
  layout.add("rates", 1, 3, true);
  for (const OptimizerKind kind : {OptimizerKind::sgd, OptimizerKind::adam, OptimizerKind::rmsprop}) {
    auto opt = make_optimizer(OptimizerOptions{kind, 1.0F, 0.0F}, layout);
    std::vector<float> p{0.1F, 0.1F, 0.1F, 0.1F, 0.1F, 5.0F};
    const std::vector<float> g{1.0F, 1.0F, 1.0F, 1.0F, 1.0F, 1e-3F};
    opt->step(p, g);
    CAPTURE(optimizer_name(kind));
    for (int i = 0; i < 3; ++i) CHECK(p[static_cast<std::size_t>(i)] < 0.0F);
    CHECK(p[3] == 0.0F);
    CHECK(p[4] == 0.0F);
    CHECK(p[5] > 0.0F);
  }
}

TEST_CASE("a step taken in parts equals the whole step bit for bit, in a parallel region or not") {
  const ParameterLayout layout = three_segments();
  const std::size_t n = layout.size();
  // Layer-like cuts that do not follow the merged ranges inside the optimizer.
  const std::vector<std::size_t> cuts{0, 10, 150, 187, 600, n};
  for (const OptimizerKind kind : {OptimizerKind::sgd, OptimizerKind::adam, OptimizerKind::rmsprop}) {
    for (const std::size_t share_count : {1, 2, 3}) {
      for (const bool in_region : {true, false}) {
        CAPTURE(optimizer_name(kind));
        CAPTURE(share_count);
        CAPTURE(in_region);
        auto whole = make_optimizer(OptimizerOptions{kind, 0.01F}, layout);
        auto parts = make_optimizer(OptimizerOptions{kind, 0.01F}, layout);
        std::vector<float> p_whole(n);
        Rng rng(3);
        for (float& v : p_whole) v = rng.uniform(-0.5F, 0.5F);
        std::vector<float> p_parts = p_whole;
        std::vector<std::vector<float>> grads(share_count, std::vector<float>(n));
        std::vector<GradientShare> shares;
        for (const auto& g : grads) shares.push_back({g.data(), 1.0F / static_cast<float>(share_count)});
        for (int step = 0; step < 5; ++step) {
          for (auto& g : grads) {
            for (float& v : g) v = rng.uniform(-1.0F, 1.0F);
          }
          whole->step(p_whole, shares);
          whole->set_learning_rate(0.01F * static_cast<float>(step + 2));
          parts->begin_step();
          // A learning-rate change after begin_step() waits for the next step, as it does in step().
          parts->set_learning_rate(0.01F * static_cast<float>(step + 2));
          if (in_region) {
#pragma omp parallel num_threads(3)
            for (std::size_t c = cuts.size() - 1; c-- > 0;) parts->update(p_parts, shares, cuts[c], cuts[c + 1]);
          } else {
            for (std::size_t c = cuts.size() - 1; c-- > 0;) parts->update(p_parts, shares, cuts[c], cuts[c + 1]);
          }
          REQUIRE(p_parts == p_whole);
        }
      }
    }
  }
}

TEST_CASE("a step taken in blocks by several threads equals the whole step bit for bit") {
  // update_block's contract: each thread updates its own blocks, run on that thread alone, the
  // blocks covering every parameter once, and blocks that straddle the layout's segments.
  const ParameterLayout layout = three_segments();
  const std::size_t n = layout.size();
  constexpr std::size_t kBlock = 61;
  for (const OptimizerKind kind : {OptimizerKind::sgd, OptimizerKind::adam, OptimizerKind::rmsprop}) {
    CAPTURE(optimizer_name(kind));
    auto whole = make_optimizer(OptimizerOptions{kind, 0.01F}, layout);
    auto blocks = make_optimizer(OptimizerOptions{kind, 0.01F}, layout);
    std::vector<float> p_whole(n);
    Rng rng(4);
    for (float& v : p_whole) v = rng.uniform(-0.5F, 0.5F);
    std::vector<float> p_blocks = p_whole;
    std::vector<float> grad(n);
    for (int step = 0; step < 5; ++step) {
      for (float& v : grad) v = rng.uniform(-1.0F, 1.0F);
      whole->step(p_whole, grad);
      blocks->begin_step();
#pragma omp parallel num_threads(3)
      {
        // Thread t takes every third block, from the last one down.
        const auto t = static_cast<std::size_t>(omp_get_thread_num());
        const auto team = static_cast<std::size_t>(omp_get_num_threads());
        const std::size_t count = (n + kBlock - 1) / kBlock;
        for (std::size_t b = count; b-- > 0;) {
          if (b % team != t) continue;
          const std::size_t first = b * kBlock;
          const std::size_t size = std::min(kBlock, n - first);
          blocks->update_block(p_blocks, first, std::span(grad).subspan(first, size));
        }
      }
      REQUIRE(p_blocks == p_whole);
    }
  }
}

TEST_CASE("an optimizer refuses parameters or a gradient of another size") {
  auto opt = make_optimizer(OptimizerOptions{}, free_layout(4));
  std::vector<float> p5(5);
  std::vector<float> g5(5);
  CHECK_THROWS_AS(opt->step(p5, g5), Error);
  std::vector<float> p4(4);
  std::vector<float> g3(3);
  CHECK_THROWS_AS(opt->step(p4, g3), Error);
}

}  // namespace rnn
