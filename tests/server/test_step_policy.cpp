#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <span>
#include <vector>

#include "compress/test_support.hpp"
#include "rnn/core/byte_io.hpp"
#include "rnn/core/error.hpp"
#include "rnn/core/rng.hpp"
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

Message dense_push(std::uint64_t base, std::vector<float> values, std::uint32_t segment = 0) {
  Message m;
  m.base_version = base;
  m.blocks.resize(1);
  m.blocks[0].segment = segment;
  m.blocks[0].dense = true;
  m.blocks[0].values = std::move(values);
  return m;
}

constexpr std::array all_policies{StepPolicy::plain, StepPolicy::global_staleness, StepPolicy::per_parameter_staleness};

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// Offers a push the server must refuse: it says why, and parameters and version are as they were.
void check_refused(ServerStep& step, const Message& push, std::vector<float>& theta, PushOutcome expected) {
  const std::vector<float> before = theta;
  const std::uint64_t version = step.version();
  StepResult r;
  CHECK_NOTHROW(r = step.apply(push, theta));
  CHECK(to_string(r.outcome) == to_string(expected));
  CHECK_FALSE(r.applied());
  CHECK_FALSE(r.reason().empty());
  CHECK(r.entries == 0);
  CHECK(same_bits(theta, before));
  CHECK(step.version() == version);
}

void check_applied(ServerStep& step, const Message& push, std::vector<float>& theta) {
  const std::uint64_t version = step.version();
  const StepResult r = step.apply(push, theta);
  INFO(r.reason());
  CHECK(r.applied());
  CHECK(r.reason().empty());
  CHECK(step.version() == version + 1);
}

// A valid push: each tensor left out, dense, or sparse with a random subset (empty ones
// included), values of either sign, a base version at most max_delay old. Its last block is
// always sparse with at least two entries, so a bad push can be made by spoiling only the end of
// a push whose first blocks are fine.
Message random_push(const ParameterLayout& layout, Rng& rng, std::uint64_t now, std::size_t max_delay) {
  Message push;
  push.base_version = now - rng.below(std::min<std::uint64_t>(now, max_delay) + 1);
  push.worker = static_cast<std::uint32_t>(rng.below(100));
  const std::size_t last = layout.segments().size() - 1;
  for (std::size_t s = 0; s <= last; ++s) {
    const std::size_t size = layout.segment(s).size();
    const std::uint64_t kind = s == last ? 2 : rng.below(3);
    if (kind == 0) continue;
    TensorBlock& block = push.blocks.emplace_back();
    block.segment = static_cast<std::uint32_t>(s);
    block.dense = kind == 1;
    for (std::uint32_t j = 0; j < size; ++j) {
      if (block.dense || rng.uniform() < 0.3F || (s == last && j < 2)) {
        if (!block.dense) block.indices.push_back(j);
        block.values.push_back(rng.normal());
      }
    }
  }
  return push;
}

// One way to spoil a valid push (see random_push), and the outcome the server must report.
struct BadPush {
  const char* name;
  PushOutcome outcome;
  void (*spoil)(Message& push, std::uint64_t now, std::size_t max_delay);
};

std::vector<BadPush> bad_pushes() {
  using M = Message&;
  using V = std::uint64_t;
  using D = std::size_t;
  constexpr auto malformed = PushOutcome::malformed;
  return {
      {"segment past the layout", malformed, [](M m, V, D) { m.blocks.back().segment += 1; }},
      {"segment 2^32 - 1", malformed, [](M m, V, D) { m.blocks.back().segment = UINT32_MAX; }},
      {"segment twice", malformed, [](M m, V, D) { m.blocks.push_back(m.blocks.back()); }},
      {"segments out of order", malformed, [](M m, V, D) { m.blocks.insert(m.blocks.begin(), m.blocks.back()); }},
      {"index at the segment's size", malformed,
       [](M m, V, D) { m.blocks.back().indices.back() = 30 * 12; }},  // rnl1.w_minus is 30 x 12
      {"index 2^32 - 1", malformed, [](M m, V, D) { m.blocks.back().indices.back() = UINT32_MAX; }},
      {"repeated index", malformed, [](M m, V, D) { m.blocks.back().indices[1] = m.blocks.back().indices[0]; }},
      {"descending indices", malformed,
       [](M m, V, D) { std::swap(m.blocks.back().indices[0], m.blocks.back().indices[1]); }},
      {"fewer indices than values", malformed, [](M m, V, D) { m.blocks.back().indices.pop_back(); }},
      {"more indices than values", malformed, [](M m, V, D) { m.blocks.back().values.pop_back(); }},
      {"short dense block", malformed,
       [](M m, V, D) {
         auto& b = m.blocks.back();
         b.dense = true;
         b.indices.clear();
         b.values.assign(30 * 12 - 1, 0.5F);
       }},
      {"long dense block", malformed,
       [](M m, V, D) {
         auto& b = m.blocks.back();
         b.dense = true;
         b.indices.clear();
         b.values.assign(30 * 12 + 1, 0.5F);
       }},
      {"dense block with indices", malformed,
       [](M m, V, D) {
         auto& b = m.blocks.back();
         b.dense = true;
         b.values.assign(30 * 12, 0.5F);
       }},
      {"unknown grid", malformed, [](M m, V, D) { m.blocks.back().grid = static_cast<ValueGrid>(3); }},
      {"levels grid with 0 levels", malformed,
       [](M m, V, D) {
         m.blocks.back().grid = ValueGrid::levels;
         m.blocks.back().scales.assign(1, 1.0F);
       }},
      {"NaN value", PushOutcome::non_finite,
       [](M m, V, D) { m.blocks.back().values.back() = std::numeric_limits<float>::quiet_NaN(); }},
      {"infinite value", PushOutcome::non_finite,
       [](M m, V, D) { m.blocks.back().values[0] = -std::numeric_limits<float>::infinity(); }},
      {"overflowing step", PushOutcome::non_finite,
       [](M m, V now, D) {
         m.base_version = now;  // delay 0: every policy takes the full step
         m.blocks.back().values[0] = std::numeric_limits<float>::max();
       }},
      {"base version from the future", PushOutcome::from_the_future, [](M m, V now, D) { m.base_version = now + 1; }},
      {"base version 2^64 - 1", PushOutcome::from_the_future, [](M m, V, D) { m.base_version = UINT64_MAX; }},
      {"too stale", PushOutcome::too_stale, [](M m, V now, D max_delay) { m.base_version = now - max_delay - 1; }},
  };
}

std::vector<std::uint8_t> saved(const ServerStep& step) {
  std::vector<std::uint8_t> bytes;
  step.save_state(bytes);
  return bytes;
}

void load(ServerStep& step, std::span<const std::uint8_t> bytes) {
  wire::Reader in(bytes, "server state");
  step.load_state(in);
}

bool same_result(const StepResult& a, const StepResult& b) {
  return a.outcome == b.outcome && a.delay == b.delay && a.entries == b.entries && a.tau_sum == b.tau_sum;
}

}  // namespace

TEST_CASE("plain step: theta -= alpha · v on the pushed entries only") {
  const auto layout = two_tensors();
  ServerStep step(layout, StepPolicy::plain, 0.5F, 100);
  std::vector<float> theta(8, 1.0F);
  const auto r = step.apply(sparse_push(0, {1, 3}, {2.0F, -4.0F}), theta);
  CHECK(r.applied());
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

TEST_CASE("the staleness power p makes the scale 1 / tau^p, for both policies") {
  const auto layout = two_tensors();
  for (const StepPolicy policy : {StepPolicy::global_staleness, StepPolicy::per_parameter_staleness}) {
    for (const float power : {0.0F, 0.5F, 2.0F}) {
      CAPTURE(to_string(policy));
      CAPTURE(power);
      ServerStep step(layout, policy, 1.0F, 100);
      step.set_staleness_power(power);
      std::vector<float> theta(8, 0.0F);
      for (int t = 0; t < 4; ++t) step.apply(sparse_push(static_cast<std::uint64_t>(t), {0}, {1.0F}), theta);
      step.apply(sparse_push(0, {0}, {8.0F}), theta);  // delay 4, and entry 0 touched 4 times since
      CHECK(theta[0] == doctest::Approx(-4.0 - 8.0 * std::pow(4.0, -power)));
    }
  }
  ServerStep step(layout, StepPolicy::global_staleness, 1.0F, 100);
  CHECK_THROWS_AS(step.set_staleness_power(-1.0F), Error);
  CHECK_THROWS_AS(step.set_staleness_power(std::nanf("")), Error);
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

TEST_CASE("non-negative maps: dw/du matches finite differences of f, and u inverts f") {
  for (const NonNegativeMap map : {NonNegativeMap::clamp, NonNegativeMap::square, NonNegativeMap::softplus}) {
    CAPTURE(to_string(map));
    CHECK(parse_nonnegative_map(to_string(map)) == map);
    for (const float w : {1e-4F, 0.01F, 0.1F, 0.5F, 1.0F, 3.0F, 25.0F}) {
      CAPTURE(w);
      const double u = nonnegative::coordinate(map, w);
      CHECK(nonnegative::weight(map, static_cast<float>(u)) == doctest::Approx(w).epsilon(1e-5));
      const double h = 1e-2 * std::max(1e-2, std::abs(u));  // within the side of u that w > 0 maps to
      const double numeric =
          (nonnegative::weight(map, static_cast<float>(u + h)) - nonnegative::weight(map, static_cast<float>(u - h))) /
          (2.0 * h);
      CHECK(nonnegative::derivative(map, w) == doctest::Approx(numeric).epsilon(2e-3));
    }
    CHECK(nonnegative::weight(map, -5.0F) >= 0.0F);
  }
  CHECK_THROWS_AS((void)parse_nonnegative_map("relu"), Error);
}

TEST_CASE("square and softplus maps step RNN weights in u and keep them non-negative; other tensors step as usual") {
  const auto layout = two_tensors();
  for (const NonNegativeMap map : {NonNegativeMap::square, NonNegativeMap::softplus}) {
    CAPTURE(to_string(map));
    ServerStep step(layout, StepPolicy::plain, 0.1F, 100);
    step.set_nonnegative_map(map);
    std::vector<float> theta{1.0F, 1.0F, 1.0F, 1.0F, 0.25F, 1.0F, 0.0F, 0.5F};
    const std::vector<float> before = theta;
    Message push = sparse_push(0, {0, 1, 2, 3}, {1.0F, -2.0F, 1000.0F, 0.5F}, 1);
    push.blocks.insert(push.blocks.begin(), sparse_push(0, {1}, {2.0F}, 0).blocks[0]);
    check_applied(step, push, theta);
    CHECK(theta[1] == doctest::Approx(1.0F - 0.2F));  // the dense tensor: θ − α v
    const auto expected = [&](float w, float v) {
      const double u = nonnegative::coordinate(map, w) - 0.1 * v * nonnegative::derivative(map, w);
      return nonnegative::weight(map, static_cast<float>(u));
    };
    CHECK(theta[4] == doctest::Approx(expected(0.25F, 1.0F)));
    CHECK(theta[5] == doctest::Approx(expected(1.0F, -2.0F)));
    CHECK(theta[6] >= 0.0F);  // a huge step on a weight at 0: still >= 0
    CHECK(theta[7] == doctest::Approx(expected(0.5F, 0.5F)));
    if (map == NonNegativeMap::square) {
      CHECK(theta[4] == doctest::Approx(0.16F));  // u = 0.5 − 0.1 · 2 · 0.5 = 0.4
      CHECK(theta[6] == 0.0F);                    // dw/du = 0 at w = 0: a zero weight stays zero
    }
    CHECK(theta[0] == before[0]);
  }
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

TEST_CASE("too-stale pushes and pushes from the future are refused and change nothing") {
  const auto layout = two_tensors();
  ServerStep step(layout, StepPolicy::per_parameter_staleness, 1.0F, 2);
  std::vector<float> theta(8, 0.0F);
  for (int t = 0; t < 3; ++t) check_applied(step, sparse_push(static_cast<std::uint64_t>(t), {0}, {1.0F}), theta);
  check_refused(step, sparse_push(0, {1}, {1.0F}), theta, PushOutcome::too_stale);  // delay 3 > 2
  check_refused(step, sparse_push(4, {1}, {1.0F}), theta, PushOutcome::from_the_future);
  check_refused(step, sparse_push(UINT64_MAX, {1}, {1.0F}), theta, PushOutcome::from_the_future);
  CHECK(step.version() == 3);
  ServerStep global(layout, StepPolicy::global_staleness, 1.0F, 1);
  check_applied(global, sparse_push(0, {0}, {1.0F}), theta);
  check_applied(global, sparse_push(1, {0}, {1.0F}), theta);
  check_refused(global, sparse_push(0, {0}, {1.0F}), theta,
                PushOutcome::too_stale);  // delay 2 > 1, whatever the policy
  CHECK(parse_step_policy("per-parameter") == StepPolicy::per_parameter_staleness);
  CHECK_THROWS_AS((void)parse_step_policy("adaptive"), Error);
}

// Every defect below let one bad push corrupt the parameters or stop the server for good.
TEST_SUITE("server step: hostile pushes") {
  TEST_CASE("a segment outside the layout is refused, and the per-parameter server keeps serving") {
    const auto layout = two_tensors();
    for (const StepPolicy policy : all_policies) {
      CAPTURE(to_string(policy));
      ServerStep step(layout, policy, 1.0F, 10);
      std::vector<float> theta(8, 1.0F);
      Message push = sparse_push(0, {1}, {1.0F});  // a valid block first, then one for segment 2 of 2
      push.blocks.push_back(sparse_push(0, {0}, {1.0F}, 2).blocks[0]);
      check_refused(step, push, theta, PushOutcome::malformed);
      push.blocks[1].segment = UINT32_MAX;
      check_refused(step, push, theta, PushOutcome::malformed);
      check_applied(step, sparse_push(0, {1}, {1.0F}), theta);
      CHECK(theta == std::vector<float>{1.0F, 0.0F, 1.0F, 1.0F, 1.0F, 1.0F, 1.0F, 1.0F});
      CHECK(step.version() == 1);
    }
  }

  TEST_CASE("an index beyond its segment is refused, not written into the next tensor or past the buffer") {
    const auto layout = two_tensors();
    for (const StepPolicy policy : all_policies) {
      CAPTURE(to_string(policy));
      ServerStep step(layout, policy, 1.0F, 10);
      std::vector<float> theta(8, 1.0F);
      check_refused(step, sparse_push(0, {1, 4}, {1.0F, 1.0F}, 0), theta, PushOutcome::malformed);  // 4: rnl.w_plus[0]
      check_refused(step, sparse_push(0, {1, 6}, {1.0F, 1.0F}, 1), theta, PushOutcome::malformed);  // past the end
      check_refused(step, sparse_push(0, {UINT32_MAX}, {1.0F}, 1), theta, PushOutcome::malformed);
    }
  }

  TEST_CASE("a sparse block needs one index per value") {
    const auto layout = two_tensors();
    for (const StepPolicy policy : all_policies) {
      CAPTURE(to_string(policy));
      ServerStep step(layout, policy, 1.0F, 10);
      std::vector<float> theta(8, 1.0F);
      check_refused(step, sparse_push(0, {0}, {1.0F, 1.0F, 1.0F}), theta, PushOutcome::malformed);  // fewer indices
      check_refused(step, sparse_push(0, {0, 1, 2}, {1.0F}), theta, PushOutcome::malformed);        // more indices
    }
  }

  TEST_CASE("a dense block must cover its whole segment, no more, and carry no indices") {
    const auto layout = two_tensors();
    for (const StepPolicy policy : all_policies) {
      CAPTURE(to_string(policy));
      ServerStep step(layout, policy, 1.0F, 10);
      std::vector<float> theta(8, 1.0F);
      check_refused(step, dense_push(0, std::vector<float>(3, 1.0F)), theta, PushOutcome::malformed);  // short
      check_refused(step, dense_push(0, std::vector<float>(5, 1.0F)), theta, PushOutcome::malformed);  // long
      check_refused(step, dense_push(0, {}), theta, PushOutcome::malformed);
      Message with_indices = dense_push(0, std::vector<float>(4, 1.0F));
      with_indices.blocks[0].indices = {0, 1, 2, 3};
      check_refused(step, with_indices, theta, PushOutcome::malformed);
      check_applied(step, dense_push(0, std::vector<float>(4, 1.0F)), theta);
      CHECK(theta == std::vector<float>{0.0F, 0.0F, 0.0F, 0.0F, 1.0F, 1.0F, 1.0F, 1.0F});
    }
  }

  TEST_CASE("a repeated or unordered index is refused, not applied twice") {
    const auto layout = two_tensors();
    for (const StepPolicy policy : all_policies) {
      CAPTURE(to_string(policy));
      ServerStep step(layout, policy, 1.0F, 10);
      std::vector<float> theta(8, 1.0F);
      check_refused(step, sparse_push(0, {1, 1}, {1.0F, 1.0F}), theta, PushOutcome::malformed);
      check_refused(step, sparse_push(0, {2, 1}, {1.0F, 1.0F}), theta, PushOutcome::malformed);
    }
  }

  TEST_CASE("a segment named twice or out of order is refused") {
    const auto layout = two_tensors();
    for (const StepPolicy policy : all_policies) {
      CAPTURE(to_string(policy));
      ServerStep step(layout, policy, 1.0F, 10);
      std::vector<float> theta(8, 1.0F);
      Message twice = sparse_push(0, {0}, {1.0F});
      twice.blocks.push_back(sparse_push(0, {1}, {1.0F}).blocks[0]);
      check_refused(step, twice, theta, PushOutcome::malformed);
      Message unordered = sparse_push(0, {0}, {1.0F}, 1);
      unordered.blocks.push_back(sparse_push(0, {1}, {1.0F}, 0).blocks[0]);
      check_refused(step, unordered, theta, PushOutcome::malformed);
    }
  }

  TEST_CASE("NaN and infinite values are refused, also on a non-negative segment where NaN passed the clamp") {
    const auto layout = two_tensors();
    const float nan = std::numeric_limits<float>::quiet_NaN();
    const float inf = std::numeric_limits<float>::infinity();
    for (const StepPolicy policy : all_policies) {
      CAPTURE(to_string(policy));
      ServerStep step(layout, policy, 1.0F, 10);
      std::vector<float> theta(8, 1.0F);
      for (const std::uint32_t segment : {0U, 1U}) {
        check_refused(step, sparse_push(0, {0, 2}, {1.0F, nan}, segment), theta, PushOutcome::non_finite);
        check_refused(step, sparse_push(0, {0, 2}, {1.0F, inf}, segment), theta, PushOutcome::non_finite);
        check_refused(step, sparse_push(0, {0, 2}, {-inf, 1.0F}, segment), theta, PushOutcome::non_finite);
        check_refused(step, dense_push(0, {1.0F, 1.0F, 1.0F, nan}, segment), theta, PushOutcome::non_finite);
      }
    }
  }

  TEST_CASE("a step that would overflow a parameter is refused") {
    const auto layout = two_tensors();
    const float big = std::numeric_limits<float>::max();
    for (const StepPolicy policy : all_policies) {
      CAPTURE(to_string(policy));
      ServerStep step(layout, policy, 4.0F, 10);
      std::vector<float> theta(8, 1.0F);
      check_refused(step, sparse_push(0, {0, 3}, {1.0F, big}), theta, PushOutcome::non_finite);
      // On a non-negative segment too, where −inf would have been clamped to a finite 0.
      check_refused(step, sparse_push(0, {0, 3}, {1.0F, big}, 1), theta, PushOutcome::non_finite);
      check_applied(step, sparse_push(0, {0, 3}, {0.25F, big / 8.0F}), theta);
      CHECK(theta[0] == 0.0F);
      CHECK(theta[3] == 1.0F - big / 2.0F);
    }
  }

  TEST_CASE("an invalid value grid is refused") {
    const auto layout = two_tensors();
    for (const StepPolicy policy : all_policies) {
      CAPTURE(to_string(policy));
      ServerStep step(layout, policy, 1.0F, 10);
      std::vector<float> theta(8, 1.0F);
      Message push = sparse_push(0, {0}, {0.5F});
      push.blocks[0].grid = static_cast<ValueGrid>(7);
      check_refused(step, push, theta, PushOutcome::malformed);
      push.blocks[0].grid = ValueGrid::sign;
      push.blocks[0].scales.assign(1, std::numeric_limits<float>::quiet_NaN());
      check_refused(step, push, theta, PushOutcome::malformed);
      push.blocks[0].scales.assign(1, -0.5F);
      check_refused(step, push, theta, PushOutcome::malformed);
      push.blocks[0].grid = ValueGrid::levels;
      push.blocks[0].scales.assign(1, 0.5F);
      push.blocks[0].levels = 0;
      check_refused(step, push, theta, PushOutcome::malformed);
      push.blocks[0].levels = 1;
      check_applied(step, push, theta);
    }
  }

  TEST_CASE("a push refused half-way leaves the per-parameter history as it was") {
    // Blocks for segment 0 are fine, the one for segment 1 is not: nothing of segment 0 may be
    // recorded, or later pushes would get a wrong τ (or, worse, find an update left open).
    const auto layout = two_tensors();
    ServerStep step(layout, StepPolicy::per_parameter_staleness, 1.0F, 10);
    ServerStep reference(layout, StepPolicy::per_parameter_staleness, 1.0F, 10);
    std::vector<float> theta(8, 1.0F);
    std::vector<float> expected(8, 1.0F);
    Message bad = sparse_push(0, {0, 1}, {1.0F, 1.0F});
    bad.blocks.push_back(sparse_push(0, {9}, {1.0F}, 1).blocks[0]);
    check_refused(step, bad, theta, PushOutcome::malformed);
    for (std::uint64_t t = 0; t < 3; ++t) {
      const Message good = sparse_push(0, {0, 1}, {1.0F, 1.0F});  // base 0: τ = t for both entries
      check_applied(step, good, theta);
      check_applied(reference, good, expected);
      CHECK(theta == expected);
    }
    CHECK(theta == std::vector<float>{-1.5F, -1.5F, 1.0F, 1.0F, 1.0F, 1.0F, 1.0F, 1.0F});  // 1 − 1 − 1 − 1/2
  }

  TEST_CASE("after any refused push, valid pushes give the same bits as on a server that never saw it") {
    const ParameterLayout layout = test::small_layout();
    const std::size_t max_delay = 6;
    for (const StepPolicy policy : all_policies) {
      for (const BadPush& bad : bad_pushes()) {
        CAPTURE(to_string(policy));
        CAPTURE(bad.name);
        ServerStep step(layout, policy, 2.5F, max_delay);
        ServerStep reference(layout, policy, 2.5F, max_delay);
        std::vector<float> theta = test::random_gradient(layout.size(), 3, 1.0F);
        std::vector<float> expected = theta;
        Rng rng(17, static_cast<std::uint64_t>(policy));
        const auto both = [&] {
          const Message push = random_push(layout, rng, step.version(), max_delay);
          const StepResult got = step.apply(push, theta);
          const StepResult want = reference.apply(push, expected);
          CHECK(got.applied());
          CHECK(got.delay == want.delay);
          CHECK(got.entries == want.entries);
          CHECK(got.tau_sum == want.tau_sum);
        };
        for (int t = 0; t < 10; ++t) both();  // a history, so that τ and delays are not all 0
        Message push = random_push(layout, rng, step.version(), max_delay);
        bad.spoil(push, step.version(), max_delay);
        check_refused(step, push, theta, bad.outcome);
        for (int t = 0; t < 10; ++t) both();
        CHECK(step.version() == reference.version());
        CHECK(same_bits(theta, expected));
      }
    }
  }

  TEST_CASE("rejections can be counted by cause") {
    const auto layout = two_tensors();
    ServerStep step(layout, StepPolicy::per_parameter_staleness, 1.0F, 1);
    std::vector<float> theta(8, 1.0F);
    std::array<int, push_outcome_count> count{};
    const auto offer = [&](const Message& push) { ++count[static_cast<std::size_t>(step.apply(push, theta).outcome)]; };
    offer(sparse_push(0, {0}, {1.0F}));
    offer(sparse_push(1, {0}, {1.0F}));
    offer(sparse_push(0, {0}, {1.0F}));  // delay 2 > 1
    offer(sparse_push(9, {0}, {1.0F}));
    offer(sparse_push(2, {0, 0}, {1.0F, 1.0F}));
    offer(sparse_push(2, {0}, {std::numeric_limits<float>::infinity()}));
    offer(sparse_push(2, {0}, {1.0F}));
    CHECK(count == std::array<int, push_outcome_count>{3, 1, 1, 1, 1});
    CHECK(to_string(PushOutcome::from_the_future) == "from-the-future");
  }

  TEST_CASE("max_delay is bounded for the per-parameter policy, with an error naming the limit") {
    const auto layout = two_tensors();
    CHECK_THROWS_WITH_AS(ServerStep(layout, StepPolicy::per_parameter_staleness, 0.1F, 100'000'000),
                         doctest::Contains("1000000"), Error);
    ServerStep largest(layout, StepPolicy::per_parameter_staleness, 0.1F, StalenessTracker::max_window);
    std::vector<float> theta(8, 1.0F);
    check_applied(largest, sparse_push(0, {1}, {1.0F}), theta);
    // The other policies keep no history: any bound is a plain comparison.
    ServerStep plain(layout, StepPolicy::plain, 0.1F, SIZE_MAX);
    check_applied(plain, sparse_push(0, {1}, {1.0F}), theta);
  }

  TEST_CASE("caller mistakes throw rnn::Error") {
    const auto layout = two_tensors();
    ServerStep step(layout, StepPolicy::plain, 0.1F, 10);
    std::vector<float> short_params(7, 1.0F);
    CHECK_THROWS_AS(step.apply(sparse_push(0, {1}, {1.0F}), short_params), Error);
    CHECK(step.version() == 0);
    CHECK_THROWS_AS(step.set_learning_rate(std::numeric_limits<float>::quiet_NaN()), Error);
    CHECK_THROWS_AS(step.set_learning_rate(-0.1F), Error);
    CHECK(step.learning_rate() == 0.1F);
    CHECK_THROWS_AS(ServerStep(layout, StepPolicy::plain, std::numeric_limits<float>::infinity(), 10), Error);
  }

  TEST_CASE("a push refused for its step leaves no trace in the per-parameter history, at any delay and version") {
    // Long enough for the records to widen to their widest for this max_delay (reach 257), with
    // refusals on and around the first version of each block of 64 versions, each followed by
    // pushes at the full delay: undoing such a refusal must restore the oldest block in reach.
    const ParameterLayout layout = test::small_layout();
    const std::size_t max_delay = 257;
    ServerStep step(layout, StepPolicy::per_parameter_staleness, 1000.0F, max_delay);
    ServerStep reference(layout, StepPolicy::per_parameter_staleness, 1000.0F, max_delay);
    std::vector<float> theta = test::random_gradient(layout.size(), 3, 1.0F);
    std::vector<float> expected = theta;
    Rng rng(29);
    int refused = 0;
    for (int t = 0; t < 900; ++t) {
      const std::uint64_t next = step.version() + 1;
      if (next % 64 <= 1 || next % 64 == 63 || rng.below(4) == 0) {
        // Values at the float range's end: with a learning rate of 1000 the step overflows for any τ ≤ 257.
        Message push = random_push(layout, rng, step.version(), max_delay);
        for (float& v : push.blocks.back().values) v = std::numeric_limits<float>::max();
        const StepResult got = step.apply(push, theta);
        if (got.applied()) {
          CHECK(same_result(got, reference.apply(push, expected)));
        } else {
          CHECK(got.outcome == PushOutcome::non_finite);
          ++refused;
        }
      }
      Message push = random_push(layout, rng, step.version(), max_delay);
      if (step.version() >= max_delay && rng.below(2) == 0) push.base_version = step.version() - max_delay;
      const StepResult got = step.apply(push, theta);
      CHECK(got.applied());
      CHECK(same_result(got, reference.apply(push, expected)));
    }
    CHECK(refused > 200);
    CHECK(same_bits(theta, expected));
    CHECK(saved(step) == saved(reference));
  }

  TEST_CASE(
      "a server saved mid-run and loaded into a fresh one applies every later push bit for bit like the original") {
    const ParameterLayout layout = test::small_layout();
    const std::size_t max_delay = 150;
    for (const StepPolicy policy : all_policies) {
      CAPTURE(to_string(policy));
      ServerStep original(layout, policy, 0.25F, max_delay);
      std::vector<float> theta = test::random_gradient(layout.size(), 3, 1.0F);
      Rng rng(31, static_cast<std::uint64_t>(policy));
      for (int t = 0; t < 200; ++t) original.apply(random_push(layout, rng, original.version(), max_delay), theta);
      original.set_learning_rate(0.125F);

      ServerStep resumed(layout, policy, 0.5F, max_delay);  // another learning rate: the state's wins
      load(resumed, saved(original));
      CHECK(resumed.version() == original.version());
      CHECK(resumed.learning_rate() == 0.125F);
      std::vector<float> resumed_theta = theta;  // the parameters are the caller's to save
      const std::vector<BadPush> bad = bad_pushes();
      for (int t = 0; t < 300; ++t) {
        Message push = random_push(layout, rng, original.version(), max_delay);
        if (t % 7 == 0) bad[static_cast<std::size_t>(t) % bad.size()].spoil(push, original.version(), max_delay);
        const StepResult a = original.apply(push, theta);
        const StepResult b = resumed.apply(push, resumed_theta);
        CHECK(same_result(a, b));
      }
      CHECK(same_bits(theta, resumed_theta));
      CHECK(saved(resumed) == saved(original));
    }
  }

  TEST_CASE("a server state that does not fit this server, or does not add up, is refused and changes nothing") {
    const ParameterLayout layout = test::small_layout();
    ServerStep source(layout, StepPolicy::per_parameter_staleness, 0.25F, 20);
    std::vector<float> theta = test::random_gradient(layout.size(), 3, 1.0F);
    Rng rng(37);
    for (int t = 0; t < 30; ++t) source.apply(random_push(layout, rng, source.version(), 20), theta);
    const std::vector<std::uint8_t> state = saved(source);
    // Layout: string tag (u32 length + 18 bytes), u8 policy, u64 max_delay, f32 learning rate,
    // u64 version, then the tracker's state.
    constexpr std::size_t policy_at = 4 + 18;
    constexpr std::size_t rate_at = policy_at + 1 + 8;
    constexpr std::size_t version_at = rate_at + 4;
    const auto with_rate = [&](float rate) {
      std::vector<std::uint8_t> bytes = state;
      std::vector<std::uint8_t> field;
      wire::put_f32(field, rate);
      std::copy(field.begin(), field.end(), bytes.begin() + rate_at);
      return bytes;
    };
    std::vector<std::uint8_t> later_version = state;
    later_version[version_at] += 1;
    std::vector<std::uint8_t> bad_tag = state;
    bad_tag[4] ^= 1;
    std::vector<std::uint8_t> bad_policy = state;
    bad_policy[policy_at] = 7;

    const auto check_refused_state = [&](ServerStep& target, std::span<const std::uint8_t> bytes) {
      const std::vector<std::uint8_t> before = saved(target);
      const std::uint64_t version = target.version();
      CHECK_THROWS_AS(load(target, bytes), Error);
      CHECK(target.version() == version);
      CHECK(target.learning_rate() == 0.5F);
      CHECK(saved(target) == before);
    };
    ServerStep target(layout, StepPolicy::per_parameter_staleness, 0.5F, 20);
    std::vector<float> target_theta = theta;
    for (int t = 0; t < 5; ++t) target.apply(random_push(layout, rng, target.version(), 20), target_theta);
    for (const float rate : {std::numeric_limits<float>::quiet_NaN(), -1.0F, std::numeric_limits<float>::infinity()}) {
      CAPTURE(rate);
      check_refused_state(target, with_rate(rate));
    }
    check_refused_state(target, later_version);  // the history says otherwise
    check_refused_state(target, bad_tag);
    check_refused_state(target, bad_policy);
    for (std::size_t size = 0; size < state.size(); ++size) {
      CAPTURE(size);
      check_refused_state(target, std::span(state.data(), size));
    }
    ServerStep other_delay(layout, StepPolicy::per_parameter_staleness, 0.5F, 21);
    check_refused_state(other_delay, state);
    ServerStep other_policy(layout, StepPolicy::global_staleness, 0.5F, 20);
    check_refused_state(other_policy, state);
    ServerStep plain(layout, StepPolicy::plain, 0.5F, 20);
    check_refused_state(plain, state);

    // And the refused loads left a server that works: it takes the valid state.
    load(target, state);
    CHECK(target.version() == source.version());
    CHECK(saved(target) == state);
  }
}

}  // namespace rnn
