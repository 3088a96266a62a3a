#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "rnn/core/error.hpp"
#include "rnn/core/rng.hpp"
#include "rnn/gelenbe/recurrent.hpp"

namespace rnn {
namespace {

struct Problem {
  RecurrentRnn network;
  std::vector<Pattern> patterns;
  VectorD output_weights;
};

// A random network with self-connections (the u = v terms), random external rates, and a loss
// on the last half of the neurons.
Problem random_problem(Eigen::Index n, std::uint64_t seed, bool rates_from_weights,
                       LuBackend backend = LuBackend::automatic) {
  RecurrentOptions options;
  options.rates_from_weights = rates_from_weights;
  options.linear_solver = backend;
  options.tolerance = 1e-14;
  Problem p{RecurrentRnn(n, options), {}, VectorD::Zero(n)};
  p.network.randomise(seed, 0.5);
  Rng rng(seed, 1);
  for (Eigen::Index i = 0; i < n; ++i) p.network.rates[i] = 1.0 + rng.uniform();
  for (Eigen::Index i = n / 2; i < n; ++i) p.output_weights[i] = 0.5 + rng.uniform();
  for (int k = 0; k < 3; ++k) {
    Pattern pattern{VectorD(n), VectorD(n), VectorD(n)};
    for (Eigen::Index i = 0; i < n; ++i) {
      pattern.excitatory[i] = 0.6 * rng.uniform();
      pattern.inhibitory[i] = 0.3 * rng.uniform();
      pattern.target[i] = rng.uniform();
    }
    p.patterns.push_back(pattern);
  }
  return p;
}

// The LU back ends this build has: Eigen always, LAPACK with RNNL_BLAS.
std::vector<LuBackend> backends() {
  std::vector<LuBackend> out{LuBackend::eigen};
  if (lapack_available()) out.push_back(LuBackend::lapack);
  return out;
}

double loss_of(const Problem& p) {
  RecurrentGradient unused;
  return loss_and_gradient(p.network, p.patterns, p.output_weights, unused);
}

// Central differences over every weight, w⁺ and w⁻, diagonal included.
void check_against_finite_differences(Problem& p, const RecurrentGradient& g) {
  const double h = 1e-6;
  for (MatrixD* w : {&p.network.w_plus, &p.network.w_minus}) {
    const MatrixD& analytic = w == &p.network.w_plus ? g.w_plus : g.w_minus;
    for (Eigen::Index u = 0; u < w->rows(); ++u) {
      for (Eigen::Index v = 0; v < w->cols(); ++v) {
        const double saved = (*w)(u, v);
        (*w)(u, v) = saved + h;
        const double up = loss_of(p);
        (*w)(u, v) = saved - h;
        const double down = loss_of(p);
        (*w)(u, v) = saved;
        const double numeric = (up - down) / (2 * h);
        CAPTURE(u);
        CAPTURE(v);
        REQUIRE(analytic(u, v) == doctest::Approx(numeric).epsilon(1e-6).scale(1e-3));
      }
    }
  }
}

}  // namespace

TEST_CASE("steady state solves q = N(q) / D(q)") {
  Problem p = random_problem(6, 1, true);
  const auto s = p.network.solve(p.patterns[0].excitatory, p.patterns[0].inhibitory);
  const VectorD r = p.network.firing_rates();
  CHECK(r.isApprox((p.network.w_plus + p.network.w_minus).rowwise().sum()));
  const VectorD n = p.patterns[0].excitatory + p.network.w_plus.transpose() * s.q;
  const VectorD d = r + p.patterns[0].inhibitory + p.network.w_minus.transpose() * s.q;
  for (Eigen::Index i = 0; i < 6; ++i) {
    CHECK(s.q[i] == doctest::Approx(std::min(1.0, n[i] / d[i])).epsilon(1e-12));
    CHECK(s.q[i] >= 0.0);
  }
  CHECK(s.residual <= 1e-14);
}

TEST_CASE("recurrent gradients match finite differences, with rates from weights and fixed") {
  for (const LuBackend backend : backends()) {
    for (const bool from_weights : {true, false}) {
      CAPTURE(static_cast<int>(backend));
      CAPTURE(from_weights);
      Problem p = random_problem(5, 3, from_weights, backend);
      RecurrentGradient g;
      loss_and_gradient(p.network, p.patterns, p.output_weights, g);
      check_against_finite_differences(p, g);
    }
  }
}

TEST_CASE("the adjoint form equals Gelenbe's 1993 (I - W)^-1 formulation") {
  for (const LuBackend backend : backends()) {
    for (const bool from_weights : {true, false}) {
      CAPTURE(static_cast<int>(backend));
      CAPTURE(from_weights);
      Problem p = random_problem(7, 5, from_weights, backend);
      RecurrentGradient adjoint;
      RecurrentGradient inverse;
      loss_and_gradient(p.network, p.patterns, p.output_weights, adjoint, GradientForm::adjoint);
      loss_and_gradient(p.network, p.patterns, p.output_weights, inverse, GradientForm::explicit_inverse);
      CHECK((adjoint.w_plus - inverse.w_plus).cwiseAbs().maxCoeff() <=
            1e-12 * (1 + inverse.w_plus.cwiseAbs().maxCoeff()));
      CHECK((adjoint.w_minus - inverse.w_minus).cwiseAbs().maxCoeff() <=
            1e-12 * (1 + inverse.w_minus.cwiseAbs().maxCoeff()));
      CHECK(adjoint.w_plus.cwiseAbs().maxCoeff() > 1e-6);  // not trivially zero
    }
  }
  // And with a saturated unit, whose columns of W are zero.
  Problem p = random_problem(6, 9, true);
  for (auto& pattern : p.patterns) pattern.excitatory[2] = 50.0;
  REQUIRE(p.network.solve(p.patterns[0].excitatory, p.patterns[0].inhibitory).saturated[2] == 1);
  RecurrentGradient adjoint;
  RecurrentGradient inverse;
  loss_and_gradient(p.network, p.patterns, p.output_weights, adjoint, GradientForm::adjoint);
  loss_and_gradient(p.network, p.patterns, p.output_weights, inverse, GradientForm::explicit_inverse);
  CHECK(adjoint.w_plus.isApprox(inverse.w_plus, 1e-10));
  CHECK(adjoint.w_minus.isApprox(inverse.w_minus, 1e-10));
}

TEST_CASE("at n = 160 (LAPACK's LU where present) gradients match finite differences and every other route") {
  // Weights scaled to 1/n as in the benchmark, so the network is in its working range.
  Problem p = random_problem(160, 13, true);
  p.network.randomise(13, 1.0 / 160);
  RecurrentGradient automatic;
  loss_and_gradient(p.network, p.patterns, p.output_weights, automatic);
  // A sample of weights against central differences (all 51 200 would take minutes). The loss
  // sums 3 patterns × 80 outputs, so the differences' rounding error, ε·E/h, is near 1e-9: the
  // tolerance is 1e-5 relative (plus 1e-8), not the 1e-6 of the small networks.
  Rng rng(17);
  const double h = 1e-6;
  for (int k = 0; k < 40; ++k) {
    const auto u = static_cast<Eigen::Index>(rng.below(160));
    const auto v = static_cast<Eigen::Index>(rng.below(160));
    for (MatrixD* w : {&p.network.w_plus, &p.network.w_minus}) {
      const double analytic = w == &p.network.w_plus ? automatic.w_plus(u, v) : automatic.w_minus(u, v);
      const double saved = (*w)(u, v);
      (*w)(u, v) = saved + h;
      const double up = loss_of(p);
      (*w)(u, v) = saved - h;
      const double down = loss_of(p);
      (*w)(u, v) = saved;
      CAPTURE(u);
      CAPTURE(v);
      CHECK(analytic == doctest::Approx((up - down) / (2 * h)).epsilon(1e-5).scale(1e-3));
    }
  }
  // The explicit inverse, and the LU of each back end instead of the iteration, agree with the
  // default adjoint to rounding.
  const double scale = 1 + automatic.w_plus.cwiseAbs().maxCoeff() + automatic.w_minus.cwiseAbs().maxCoeff();
  CHECK(scale > 1 + 1e-6);  // not trivially zero
  auto agree = [&](const RecurrentGradient& g) {
    return std::max((g.w_plus - automatic.w_plus).cwiseAbs().maxCoeff(),
                    (g.w_minus - automatic.w_minus).cwiseAbs().maxCoeff()) <= 1e-12 * scale;
  };
  RecurrentGradient inverse;
  loss_and_gradient(p.network, p.patterns, p.output_weights, inverse, GradientForm::explicit_inverse);
  CHECK(agree(inverse));
  for (const LuBackend backend : backends()) {
    CAPTURE(static_cast<int>(backend));
    RecurrentRnn lu_only(160, {.tolerance = 1e-14, .linear_solver = backend, .adjoint_iterations = 0});
    lu_only.w_plus = p.network.w_plus;
    lu_only.w_minus = p.network.w_minus;
    RecurrentGradient g;
    loss_and_gradient(lu_only, p.patterns, p.output_weights, g);
    CHECK(agree(g));
    // The default took the iteration, not the LU: equal to rounding, not to the bit.
    CHECK(g.w_plus != automatic.w_plus);
  }
}

TEST_CASE("a slowly contracting network's adjoint falls back from the iteration to the LU") {
  // No inhibition and rates close to the recurrent excitation: W ≈ w⁺ / D has spectral radius
  // ≈ 1 / (1 + λ) ≈ 0.99, so z ← e + W z would need thousands of steps; the iteration must give
  // up and the LU answer.
  const Eigen::Index n = 160;
  RecurrentRnn network(n, {.tolerance = 1e-13, .max_iterations = 100000});
  RecurrentRnn lu_only(n, {.tolerance = 1e-13, .max_iterations = 100000, .adjoint_iterations = 0});
  network.randomise(21, 2.0 / static_cast<double>(n));
  network.w_minus.setZero();
  lu_only.w_plus = network.w_plus;
  lu_only.w_minus = network.w_minus;
  Rng rng(22);
  std::vector<Pattern> patterns;
  for (int k = 0; k < 2; ++k) {
    Pattern pattern{VectorD(n), VectorD::Constant(n, 0.01), VectorD(n)};
    for (Eigen::Index i = 0; i < n; ++i) {
      pattern.excitatory[i] = 0.001 * rng.uniform();
      pattern.target[i] = rng.uniform();
    }
    patterns.push_back(pattern);
  }
  const auto s = network.solve(patterns[0].excitatory, patterns[0].inhibitory);
  REQUIRE(s.iterations > 1000);  // the premise: a slowly contracting steady-state map
  REQUIRE(s.q.maxCoeff() < 1.0);
  VectorD outputs = VectorD::Zero(n);
  outputs.tail(n / 2).setOnes();
  RecurrentGradient fallback;
  RecurrentGradient factorised;
  loss_and_gradient(network, patterns, outputs, fallback);
  loss_and_gradient(lu_only, patterns, outputs, factorised);
  const double scale = 1 + factorised.w_plus.cwiseAbs().maxCoeff();
  CHECK(scale > 1 + 1e-6);
  CHECK((fallback.w_plus - factorised.w_plus).cwiseAbs().maxCoeff() <= 1e-12 * scale);
  CHECK((fallback.w_minus - factorised.w_minus).cwiseAbs().maxCoeff() <= 1e-12 * scale);
}

TEST_CASE("a neuron that neither fires nor is inhibited passes no gradient instead of 1/epsilon") {
  // All weights zero: every D_i is 0 and sits at the floor. Neuron 0 receives arrivals (q = 1),
  // neuron 3 nothing (q = 0); both are returned as true solutions and pass nothing back.
  RecurrentRnn network(4);
  Pattern p{VectorD::Zero(4), VectorD::Zero(4), VectorD::Constant(4, 0.5)};
  p.excitatory[0] = 1.0;
  const auto s = network.solve(p.excitatory, p.inhibitory);
  CHECK(s.q[0] == 1.0);
  CHECK(s.q[3] == 0.0);
  CHECK(s.saturated[3] == 1);
  VectorD outputs = VectorD::Zero(4);
  outputs[3] = 1.0;
  RecurrentGradient g;
  const std::vector<Pattern> patterns{p};
  CHECK(loss_and_gradient(network, patterns, outputs, g) == doctest::Approx(0.125));
  CHECK(g.w_plus.allFinite());
  CHECK(g.w_plus.cwiseAbs().maxCoeff() == 0.0);
  CHECK(g.w_minus.cwiseAbs().maxCoeff() == 0.0);
}

TEST_CASE("a saturated neuron is clamped at 1 and passes no gradient") {
  // Fixed rates, so that weights into neuron 4 change nothing but neuron 4's own N and D.
  Problem p = random_problem(5, 7, false);
  for (auto& pattern : p.patterns) pattern.excitatory[4] = 50.0;  // far more than neuron 4 can fire away
  const auto s = p.network.solve(p.patterns[0].excitatory, p.patterns[0].inhibitory);
  REQUIRE(s.saturated[4] == 1);
  CHECK(s.q[4] == 1.0);
  RecurrentGradient g;
  loss_and_gradient(p.network, p.patterns, p.output_weights, g);
  // Weights into neuron 4 only change N_4 and D_4, which the clamp ignores.
  for (Eigen::Index u = 0; u < 4; ++u) {
    CHECK(g.w_plus(u, 4) == 0.0);
    CHECK(g.w_minus(u, 4) == 0.0);
  }
  check_against_finite_differences(p, g);
  // With rates from weights the same network still checks out (weights into 4 move r_u then).
  Problem coupled = random_problem(5, 7, true);
  for (auto& pattern : coupled.patterns) pattern.excitatory[4] = 50.0;
  REQUIRE(coupled.network.solve(coupled.patterns[0].excitatory, coupled.patterns[0].inhibitory).saturated[4] == 1);
  RecurrentGradient gc;
  loss_and_gradient(coupled.network, coupled.patterns, coupled.output_weights, gc);
  check_against_finite_differences(coupled, gc);
}

TEST_CASE("the solver reports non-convergence with its residual instead of returning numbers") {
  // Fixed firing rates far below the outgoing weights (not a physical network: r_i < Σ_j w(i,j)).
  // The iteration falls into a cycle between two states and never settles.
  RecurrentOptions options;
  options.rates_from_weights = false;
  options.max_iterations = 20000;
  RecurrentRnn network(3, options);
  network.w_plus << 0, 9.64, 0, 11.35, 0, 0, 0, 0, 7.51;
  network.w_minus << 134.78, 0, 9.24, 95.94, 230.51, 129.54, 0, 0, 145.44;
  network.rates << 0.71, 0.15, 0.11;
  const VectorD excitatory = (VectorD(3) << 0.17, 0.41, 0.24).finished();
  CHECK_THROWS_WITH_AS((void)network.solve(excitatory, VectorD::Zero(3)), doctest::Contains("did not converge"), Error);
  CHECK_THROWS_WITH_AS((void)network.solve(excitatory, VectorD::Zero(3)), doctest::Contains("residual"), Error);
  // The same weights with rates derived from them are a physical network, and converge.
  RecurrentRnn physical(3);
  physical.w_plus = network.w_plus;
  physical.w_minus = network.w_minus;
  CHECK_NOTHROW((void)physical.solve(excitatory, VectorD::Zero(3)));
}

TEST_CASE("bad inputs are errors") {
  RecurrentRnn network(3);
  CHECK_THROWS_AS((void)network.solve(VectorD::Zero(2), VectorD::Zero(3)), Error);
  CHECK_THROWS_AS((void)network.solve(-VectorD::Ones(3), VectorD::Zero(3)), Error);
  CHECK_THROWS_AS(RecurrentRnn(0), Error);
  RecurrentRnn negative(3);
  negative.w_plus(0, 1) = -0.1;
  CHECK_THROWS_WITH_AS((void)negative.solve(VectorD::Ones(3), VectorD::Zero(3)), doctest::Contains("w_plus"), Error);
  CHECK_THROWS_AS(RecurrentRnn(3, RecurrentOptions{.tolerance = 0.0}), Error);
  if (!lapack_available()) CHECK_THROWS_AS(RecurrentRnn(3, {.linear_solver = LuBackend::lapack}), Error);
  CHECK_THROWS_AS(RecurrentRnn(3, {.adjoint_iterations = -1}), Error);
  RecurrentGradient wrong;
  wrong.resize(2);
  const auto s = network.solve(VectorD::Ones(3), VectorD::Zero(3));
  CHECK_THROWS_AS(network.add_gradient_adjoint(s, VectorD::Zero(3), wrong), Error);
  CHECK_THROWS_AS(network.add_gradient_adjoint(s, VectorD::Zero(2), wrong), Error);
}

TEST_CASE("Gelenbe learning associates patterns: outputs reach their targets, weights stay >= 0") {
  // Four input patterns (one neuron of 0-3 receives excitatory arrivals at rate 1, the others
  // 0.2) are associated with four random target vectors in [0.2, 0.8] on neurons 4-7.
  const Eigen::Index n = 8;
  RecurrentRnn network(n);
  network.randomise(1, 0.3);
  Rng rng(11);
  std::vector<Pattern> patterns;
  for (Eigen::Index k = 0; k < 4; ++k) {
    Pattern p{VectorD::Zero(n), VectorD::Zero(n), VectorD::Zero(n)};
    for (Eigen::Index i = 0; i < 4; ++i) p.excitatory[i] = i == k ? 1.0 : 0.2;
    for (Eigen::Index i = 4; i < n; ++i) p.target[i] = 0.2 + 0.6 * rng.uniform();
    patterns.push_back(p);
  }
  VectorD outputs = VectorD::Zero(n);
  outputs.tail(4).setOnes();
  const double first = learning_step(network, patterns, outputs, 0.02);
  double last = first;
  for (int step = 0; step < 3000; ++step) last = learning_step(network, patterns, outputs, 0.02);
  MESSAGE("pattern association: loss " << first << " -> " << last);
  CHECK(last < first * 1e-3);
  for (const auto& p : patterns) {
    const auto s = network.solve(p.excitatory, p.inhibitory);
    for (Eigen::Index i = 4; i < n; ++i) CHECK(std::fabs(s.q[i] - p.target[i]) < 0.01);
  }
  CHECK(network.w_plus.minCoeff() >= 0.0);
  CHECK(network.w_minus.minCoeff() >= 0.0);
}

}  // namespace rnn
