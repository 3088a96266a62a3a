#include <doctest/doctest.h>

#include <vector>

#include "rnn/core/error.hpp"
#include "rnn/server/step_policy.hpp"

namespace rnn {
namespace {

ParameterLayout two_tensors() {
  ParameterLayout layout;
  layout.add("dense.weight", 1, 4, false);
  layout.add("rnl.w_plus", 1, 4, true);
  return layout;
}

Message sparse_push(std::uint64_t base, std::vector<std::uint32_t> indices, std::vector<float> values,
                    std::uint32_t segment = 0) {
  Message m;
  m.base_version = base;
  m.blocks.resize(1);
  m.blocks[0].segment = segment;
  m.blocks[0].indices = std::move(indices);
  m.blocks[0].values = std::move(values);
  return m;
}

}  // namespace

TEST_CASE("plain step: theta -= alpha · v on the pushed entries only") {
  const auto layout = two_tensors();
  ServerStep step(layout, StepPolicy::plain, 0.5F, 100);
  std::vector<float> theta(8, 1.0F);
  const auto r = step.apply(sparse_push(0, {1, 3}, {2.0F, -4.0F}), theta);
  CHECK(r.applied);
  CHECK(r.entries == 2);
  CHECK(theta == std::vector<float>{1.0F, 0.0F, 1.0F, 3.0F, 1.0F, 1.0F, 1.0F, 1.0F});
  CHECK(step.version() == 1);
}

TEST_CASE("global staleness divides the step by the push's delay") {
  const auto layout = two_tensors();
  ServerStep step(layout, StepPolicy::global_staleness, 1.0F, 100);
  std::vector<float> theta(8, 0.0F);
  for (int t = 0; t < 4; ++t) step.apply(sparse_push(static_cast<std::uint64_t>(t), {0}, {1.0F}), theta);
  CHECK(theta[0] == -4.0F);                                       // delay 0 each time: full steps
  const auto r = step.apply(sparse_push(0, {2}, {8.0F}), theta);  // delay 4
  CHECK(r.delay == 4);
  CHECK(theta[2] == -2.0F);
}

TEST_CASE("per-parameter staleness counts only the intervening updates that touched each entry") {
  const auto layout = two_tensors();
  ServerStep step(layout, StepPolicy::per_parameter_staleness, 1.0F, 100);
  std::vector<float> theta(8, 0.0F);
  step.apply(sparse_push(0, {0, 1}, {1.0F, 1.0F}), theta);  // version 1 touches 0, 1
  step.apply(sparse_push(1, {1}, {1.0F}), theta);           // version 2 touches 1
  step.apply(sparse_push(2, {1, 2}, {1.0F, 1.0F}), theta);  // version 3 touches 1, 2
  // A push based on version 0: τ_0 = 1, τ_1 = 3, τ_2 = 1, τ_3 = 0.
  std::fill(theta.begin(), theta.end(), 0.0F);
  const auto r = step.apply(sparse_push(0, {0, 1, 2, 3}, {6.0F, 6.0F, 6.0F, 6.0F}), theta);
  CHECK(r.tau_sum == 5.0);
  CHECK(theta[0] == -6.0F);
  CHECK(theta[1] == -2.0F);
  CHECK(theta[2] == -6.0F);
  CHECK(theta[3] == -6.0F);
}

TEST_CASE("non-negative segments are clamped on the touched entries, the rest untouched") {
  const auto layout = two_tensors();
  ServerStep step(layout, StepPolicy::plain, 1.0F, 100);
  std::vector<float> theta{-1.0F, 0.0F, 0.0F, 0.0F, 0.5F, -3.0F, 0.5F, 0.5F};  // -3: left by someone else
  step.apply(sparse_push(0, {0, 2}, {1.0F, 1.0F}, 1), theta);
  CHECK(theta == std::vector<float>{-1.0F, 0.0F, 0.0F, 0.0F, 0.0F, -3.0F, 0.0F, 0.5F});
}

TEST_CASE("dense blocks count as touching every entry of their tensor") {
  const auto layout = two_tensors();
  ServerStep step(layout, StepPolicy::per_parameter_staleness, 1.0F, 100);
  std::vector<float> theta(8, 0.0F);
  Message dense;
  dense.base_version = 0;
  dense.blocks.resize(1);
  dense.blocks[0].segment = 0;
  dense.blocks[0].dense = true;
  dense.blocks[0].values = {1.0F, 1.0F, 1.0F, 1.0F};
  step.apply(dense, theta);                        // version 1: all of segment 0
  step.apply(sparse_push(1, {2}, {1.0F}), theta);  // version 2: entry 2
  std::fill(theta.begin(), theta.end(), 0.0F);
  dense.blocks[0].values = {6.0F, 6.0F, 6.0F, 6.0F};
  const auto r = step.apply(dense, theta);  // from version 0: τ = 1, 1, 2, 1
  CHECK(r.tau_sum == 5.0);
  CHECK(theta == std::vector<float>{-6.0F, -6.0F, -3.0F, -6.0F, 0.0F, 0.0F, 0.0F, 0.0F});
}

TEST_CASE("too-stale pushes are refused and a push from the future is an error") {
  const auto layout = two_tensors();
  ServerStep step(layout, StepPolicy::per_parameter_staleness, 1.0F, 2);
  std::vector<float> theta(8, 0.0F);
  for (int t = 0; t < 3; ++t) CHECK(step.apply(sparse_push(static_cast<std::uint64_t>(t), {0}, {1.0F}), theta).applied);
  const auto before = theta;
  const auto r = step.apply(sparse_push(0, {1}, {1.0F}), theta);  // delay 3 > 2
  CHECK_FALSE(r.applied);
  CHECK(theta == before);
  CHECK(step.version() == 3);
  CHECK_THROWS_AS(step.apply(sparse_push(9, {1}, {1.0F}), theta), Error);
  ServerStep global(layout, StepPolicy::global_staleness, 1.0F, 1);
  global.apply(sparse_push(0, {0}, {1.0F}), theta);
  global.apply(sparse_push(1, {0}, {1.0F}), theta);
  CHECK_FALSE(global.apply(sparse_push(0, {0}, {1.0F}), theta).applied);  // delay 2 > 1, whatever the policy
  CHECK(parse_step_policy("per-parameter") == StepPolicy::per_parameter_staleness);
  CHECK_THROWS_AS((void)parse_step_policy("adaptive"), Error);
}

}  // namespace rnn
