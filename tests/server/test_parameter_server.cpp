// The parameter server: bytes in, counted by outcome; server-side update rules (momentum, lazy
// Adam) and per-segment step multipliers against hand-written references.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "rnn/compress/codec.hpp"
#include "rnn/core/error.hpp"
#include "rnn/server/parameter_server.hpp"

namespace rnn {
namespace {

ParameterLayout two_segments() {
  ParameterLayout layout;
  layout.add("rnl1.w_plus", 2, 3, true);
  layout.add("dense1.w", 1, 4, false);
  return layout;
}

std::vector<std::uint8_t> encoded(const ParameterLayout& layout, std::uint64_t base, std::vector<std::uint32_t> i0,
                                  std::vector<float> v0, std::vector<std::uint32_t> i1, std::vector<float> v1) {
  Message m;
  m.base_version = base;
  m.blocks.resize(2);
  m.blocks[0].segment = 0;
  m.blocks[0].indices = std::move(i0);
  m.blocks[0].values = std::move(v0);
  m.blocks[1].segment = 1;
  m.blocks[1].indices = std::move(i1);
  m.blocks[1].values = std::move(v1);
  std::vector<std::uint8_t> bytes;
  encode(m, layout, CodecOptions{}, bytes);
  return bytes;
}

}  // namespace

TEST_CASE("parameter server: bytes that do not decode are refused, counted, and change nothing") {
  const ParameterLayout layout = two_segments();
  ServerOptions o;
  o.policy = StepPolicy::plain;
  ParameterServer server(layout, std::vector<float>(layout.size(), 0.5F), o);
  const std::vector<std::uint8_t> garbage{1, 2, 3, 4, 5};
  const PushReceipt r = server.receive(garbage);
  CHECK(r.outcome == PushOutcome::malformed);
  CHECK(!r.reason().empty());
  CHECK(server.version() == 0);
  CHECK(server.counters().rejected() == 1);
  CHECK(server.counters().ingress_bytes == 5);
  for (const float p : server.parameters()) CHECK(p == 0.5F);
  CHECK(server.receive(encoded(layout, 0, {1}, {1.0F}, {}, {})).outcome == PushOutcome::applied);
  CHECK(server.version() == 1);
  CHECK(server.counters().applied() == 1);
}

TEST_CASE("parameter server: per-segment multipliers scale the plain step, matched by name prefix") {
  const ParameterLayout layout = two_segments();
  ServerOptions o;
  o.policy = StepPolicy::plain;
  o.learning_rate = 0.1F;
  o.segment_multipliers = parse_segment_multipliers("rnl=3,dense=0.5");
  ParameterServer server(layout, std::vector<float>(layout.size(), 1.0F), o);
  REQUIRE(server.receive(encoded(layout, 0, {0}, {1.0F}, {2}, {1.0F})).applied());
  CHECK(server.parameters()[0] == doctest::Approx(1.0F - 0.3F));
  CHECK(server.parameters()[6 + 2] == doctest::Approx(1.0F - 0.05F));
  CHECK(server.parameters()[1] == 1.0F);
  CHECK_THROWS_AS((void)parse_segment_multipliers("rnl"), Error);
  CHECK_THROWS_AS((void)parse_segment_multipliers("rnl=0"), Error);
  CHECK_THROWS_AS((void)parse_segment_multipliers("rnl=nan"), Error);
  CHECK_THROWS_AS((void)parse_segment_multipliers("=2"), Error);
}

TEST_CASE("parameter server: lazy Adam and momentum at the server equal a per-entry reference") {
  const ParameterLayout layout = two_segments();
  struct Push {
    std::vector<std::uint32_t> i0;
    std::vector<float> v0;
    std::vector<std::uint32_t> i1;
    std::vector<float> v1;
  };
  const std::vector<Push> pushes{{{0, 2}, {0.5F, -1.0F}, {1}, {2.0F}},
                                 {{2, 5}, {0.25F, 3.0F}, {}, {}},
                                 {{0}, {-0.75F}, {1, 3}, {1.0F, -0.5F}},
                                 {{2}, {4.0F}, {1}, {-2.0F}}};
  for (const ServerRule rule : {ServerRule::adam, ServerRule::momentum}) {
    CAPTURE(to_string(rule));
    ServerOptions o;
    o.policy = StepPolicy::plain;
    o.rule = rule;
    o.learning_rate = 0.1F;
    o.segment_multipliers = {{"dense", 2.0F}};
    const std::vector<float> initial{0.3F, 0.2F, 0.1F, 0.4F, 0.5F, 0.05F, 1.0F, -1.0F, 0.0F, 2.0F};
    ParameterServer server(layout, initial, o);
    // Reference: every entry has its own state, advanced only when a push carries it.
    std::vector<double> theta(initial.begin(), initial.end());
    std::vector<double> m(initial.size(), 0.0);
    std::vector<double> v(initial.size(), 0.0);
    long t = 0;
    for (const Push& p : pushes) {
      REQUIRE(server.receive(encoded(layout, server.version(), p.i0, p.v0, p.i1, p.v1)).applied());
      ++t;
      const auto step = [&](std::size_t i, double g, double multiplier, bool non_negative) {
        const double lr = 0.1 * multiplier;
        if (rule == ServerRule::adam) {
          m[i] = 0.9 * m[i] + 0.1 * g;
          v[i] = 0.999 * v[i] + 0.001 * g * g;
          const double mhat = m[i] / (1.0 - std::pow(0.9, t));
          const double vhat = v[i] / (1.0 - std::pow(0.999, t));
          theta[i] -= lr * mhat / (std::sqrt(vhat) + 1e-7);
        } else {
          m[i] = 0.9 * m[i] + g;
          theta[i] -= lr * m[i];
        }
        if (non_negative) theta[i] = std::max(0.0, theta[i]);
      };
      for (std::size_t j = 0; j < p.i0.size(); ++j) step(p.i0[j], p.v0[j], 1.0, true);
      for (std::size_t j = 0; j < p.i1.size(); ++j) step(6 + p.i1[j], p.v1[j], 2.0, false);
    }
    for (std::size_t i = 0; i < theta.size(); ++i) {
      CAPTURE(i);
      CHECK(server.parameters()[i] == doctest::Approx(theta[i]).epsilon(1e-5));
    }
    // Entry 1 and 4 were never pushed: untouched.
    CHECK(server.parameters()[1] == initial[1]);
    CHECK(server.parameters()[4] == initial[4]);
    // The clamped RNL entry 2 went below zero under the large pushes and stays at 0.
    CHECK(server.parameters()[2] >= 0.0F);
  }
}

TEST_CASE("parameter server: per-parameter staleness scales the gradient an update rule sees") {
  const ParameterLayout layout = two_segments();
  ServerOptions o;
  o.policy = StepPolicy::per_parameter_staleness;
  o.rule = ServerRule::momentum;
  o.learning_rate = 1.0F;
  ParameterServer server(layout, std::vector<float>(layout.size(), 10.0F), o);
  // Two pushes from version 0 touching dense1.w[0]: the second has τ = 1 … then a third from
  // version 0 after two touches has τ = 2, so its gradient enters the momentum halved.
  REQUIRE(server.receive(encoded(layout, 0, {}, {}, {0}, {1.0F})).applied());  // m = 1, θ = 9
  REQUIRE(server.receive(encoded(layout, 0, {}, {}, {0}, {1.0F})).applied());  // τ 1: m = 1.9, θ = 7.1
  REQUIRE(server.receive(encoded(layout, 0, {}, {}, {0}, {4.0F})).applied());  // τ 2: m = 1.71 + 2, θ = 3.39
  CHECK(server.parameters()[6] == doctest::Approx(3.39F));
}

TEST_CASE("parameter server: with scale_rule_step the staleness scale multiplies the rule's step, not its gradient") {
  const ParameterLayout layout = two_segments();
  ServerOptions o;
  o.policy = StepPolicy::per_parameter_staleness;
  o.rule = ServerRule::momentum;
  o.learning_rate = 1.0F;
  o.scale_rule_step = true;
  ParameterServer server(layout, std::vector<float>(layout.size(), 10.0F), o);
  REQUIRE(server.receive(encoded(layout, 0, {}, {}, {0}, {1.0F})).applied());  // m = 1, θ = 9
  REQUIRE(server.receive(encoded(layout, 0, {}, {}, {0}, {1.0F})).applied());  // τ 1: m = 1.9, θ = 7.1
  REQUIRE(server.receive(encoded(layout, 0, {}, {}, {0}, {4.0F})).applied());  // τ 2: m = 1.71 + 4, θ −= 5.71 / 2
  CHECK(server.parameters()[6] == doctest::Approx(4.245F));
}

TEST_CASE("parameter server: Adam with a square map on RNN weights equals Adam in u = sqrt(w)") {
  const ParameterLayout layout = two_segments();
  ServerOptions o;
  o.policy = StepPolicy::per_parameter_staleness;
  o.rule = ServerRule::adam;
  o.learning_rate = 0.05F;
  o.scale_rule_step = true;
  o.nonnegative_map = NonNegativeMap::square;
  const std::vector<float> initial{0.3F, 0.2F, 0.1F, 0.4F, 0.5F, 0.0F, 1.0F, -1.0F, 0.0F, 2.0F};
  ParameterServer server(layout, initial, o);
  std::vector<double> u(initial.begin(), initial.end());
  for (std::size_t i = 0; i < 6; ++i) u[i] = std::sqrt(u[i]);
  std::vector<double> m(initial.size(), 0.0);
  std::vector<double> v(initial.size(), 0.0);
  // Three pushes from version 0 on entry 0 (τ 0, 1, 2) and one on entry 5, a weight at 0.
  const std::vector<float> g{0.5F, -1.0F, 2.0F};
  for (int t = 1; t <= 3; ++t) {
    REQUIRE(server.receive(encoded(layout, 0, {0}, {g[t - 1]}, {}, {})).applied());
    const double gu = g[t - 1] * 2.0 * u[0];  // ∂L/∂u = ∂L/∂w · 2u
    m[0] = 0.9 * m[0] + 0.1 * gu;
    v[0] = 0.999 * v[0] + 0.001 * gu * gu;
    const double mhat = m[0] / (1.0 - std::pow(0.9, t));
    const double vhat = v[0] / (1.0 - std::pow(0.999, t));
    const double scale = 1.0 / std::max(1, t - 1);
    u[0] -= scale * 0.05 * mhat / (std::sqrt(vhat) + 1e-7);
    CHECK(server.parameters()[0] == doctest::Approx(u[0] * u[0]).epsilon(1e-5));
  }
  REQUIRE(server.receive(encoded(layout, server.version(), {5}, {-3.0F}, {}, {})).applied());
  CHECK(server.parameters()[5] == 0.0F);
  CHECK(server.parameters()[1] == initial[1]);
}

TEST_CASE("parameter server: lazy Adam with per-entry bias correction corrects by each entry's own update count") {
  const ParameterLayout layout = two_segments();
  ServerOptions o;
  o.policy = StepPolicy::plain;
  o.rule = ServerRule::adam;
  o.learning_rate = 0.01F;
  o.adam_entry_bias_correction = true;
  const std::vector<float> initial(layout.size(), 1.0F);
  ParameterServer server(layout, initial, o);
  std::vector<double> theta(initial.begin(), initial.end());
  std::vector<double> m(initial.size(), 0.0);
  std::vector<double> v(initial.size(), 0.0);
  std::vector<int> n(initial.size(), 0);
  // Entry 6 (dense1.w[0]) in every push, entry 7 only in the last: its first step is η · sign(g),
  // as a fresh Adam's is, although the server has taken five steps.
  for (int t = 1; t <= 5; ++t) {
    std::vector<std::uint32_t> i1{0};
    std::vector<float> v1{0.5F * static_cast<float>(t)};
    if (t == 5) {
      i1.push_back(1);
      v1.push_back(-3.0F);
    }
    REQUIRE(server.receive(encoded(layout, server.version(), {}, {}, i1, v1)).applied());
    for (std::size_t j = 0; j < i1.size(); ++j) {
      const std::size_t i = 6 + i1[j];
      const double g = v1[j];
      ++n[i];
      m[i] = 0.9 * m[i] + 0.1 * g;
      v[i] = 0.999 * v[i] + 0.001 * g * g;
      theta[i] -=
          0.01 * (m[i] / (1.0 - std::pow(0.9, n[i]))) / (std::sqrt(v[i] / (1.0 - std::pow(0.999, n[i]))) + 1e-7);
    }
  }
  CHECK(server.parameters()[6] == doctest::Approx(theta[6]).epsilon(1e-6));
  CHECK(server.parameters()[7] == doctest::Approx(1.01).epsilon(1e-6));
  CHECK(server.parameters()[7] == doctest::Approx(theta[7]).epsilon(1e-6));
  // The counts travel with the server's state.
  std::vector<std::uint8_t> state;
  server.save_state(state);
  ParameterServer restored(layout, initial, o);
  wire::Reader in(state);
  restored.load_state(in);
  const auto push = encoded(layout, server.version(), {}, {}, {1}, {1.0F});
  REQUIRE(server.receive(push).applied());
  REQUIRE(restored.receive(push).applied());
  CHECK(restored.parameters()[7] == server.parameters()[7]);
}

}  // namespace rnn
