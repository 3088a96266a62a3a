#include <doctest/doctest.h>

#include <cmath>

#include "rnn/gelenbe/dense_nuclei.hpp"
#include "rnn/gelenbe/feedforward.hpp"
#include "support/gradient_check.hpp"

namespace rnn {

TEST_CASE("gelenbe_ff gradients match finite differences, rate coupling included") {
  Rng rng(31);
  for (const auto& sizes : {std::vector<int>{5, 3}, std::vector<int>{6, 5, 4}, std::vector<int>{5, 4, 4, 3}}) {
    CAPTURE(sizes.size());
    // A faster output rate keeps outputs off the saturation kink, where differences are meaningless.
    GelenbeFeedforward layer(sizes, {.output_rate = 1.0F, .init_gain = 1.0F});
    // Negative inputs drive the inhibitory rate λ, positive ones Λ.
    test::check_layer(layer, test::random_matrix(3, sizes.front(), rng, -0.5F, 1.0F), rng,
                      test::Tolerance{1e-3, 1e-3, 2e-2});
  }
}

TEST_CASE("gelenbe_ff forward follows the layered steady state, with r = sum of outgoing weights") {
  GelenbeFeedforward layer({2, 2, 1}, {.output_rate = 0.1F, .init_gain = 1.0F});
  ParameterLayout layout;
  layer.declare_parameters(layout, "g");
  // W⁺_0, W⁻_0 (2×2), then W⁺_1, W⁻_1 (2×1)
  std::vector<float> p{0.2F, 0.1F, 0.3F, 0.4F, 0.1F, 0.1F, 0.2F, 0.05F, 0.3F, 0.2F, 0.1F, 0.4F};
  REQUIRE(p.size() == layout.size());
  Matrix x(1, 2);
  x << 0.2F, -0.3F;
  Matrix y;
  auto st = layer.make_state();
  layer.forward(p, x, y, st.get(), false);
  const double r0[2] = {0.2 + 0.1 + 0.1 + 0.1, 0.3 + 0.4 + 0.2 + 0.05};
  const double q0[2] = {0.2 / r0[0], 0.0};  // neuron 1 only receives inhibition: q = 0
  const double r1[2] = {0.3 + 0.1, 0.2 + 0.4};
  double q1[2];
  q1[0] = std::min(1.0, (q0[0] * 0.2 + q0[1] * 0.3) / (r1[0] + q0[0] * 0.1 + q0[1] * 0.2));
  q1[1] = std::min(1.0, (q0[0] * 0.1 + q0[1] * 0.4) / (r1[1] + q0[0] * 0.1 + q0[1] * 0.05));
  const double q2 = std::min(1.0, (q1[0] * 0.3 + q1[1] * 0.2) / (0.1 + q1[0] * 0.1 + q1[1] * 0.4));
  CHECK(y(0, 0) == doctest::Approx(q2).epsilon(1e-5));
}

TEST_CASE("a saturated gelenbe_ff output passes no gradient") {
  GelenbeFeedforward layer({3, 2}, {.output_rate = 0.001F, .init_gain = 1.0F});
  ParameterLayout layout;
  layer.declare_parameters(layout, "g");
  std::vector<float> p(layout.size(), 0.5F);
  std::fill(p.begin() + 6, p.end(), 0.0F);  // no inhibition: D is the output rate alone
  Matrix x = Matrix::Constant(2, 3, 1.0F);
  Matrix y;
  auto st = layer.make_state();
  layer.forward(p, x, y, st.get(), true);
  REQUIRE(y.minCoeff() == 1.0F);  // N ≫ D: clamped
  std::vector<float> grad(layout.size(), 1.0F);
  Matrix dx;
  layer.backward(p, x, y, Matrix::Ones(2, 2), &dx, grad, st.get());
  for (const float g : grad) CHECK(g == 0.0F);
  CHECK(dx.cwiseAbs().maxCoeff() == 0.0F);
}

TEST_CASE("dense nuclei response: the published values and the stated derivative") {
  const DenseNucleiOptions defaults;
  CHECK(nucleus_response(0.0F, defaults).q == doctest::Approx(0.980).epsilon(2e-3));
  CHECK(nucleus_response(0.1F, defaults).q == doctest::Approx(0.048).epsilon(2e-2));
  for (const float z : {0.0F, 0.01F, 0.05F, 0.2F, 3.0F}) {
    const double h = 1e-3 * (z + 1e-3);
    const double numeric = (nucleus_response(static_cast<float>(z + h), defaults).q -
                            nucleus_response(static_cast<float>(z - h), defaults).q) /
                           (2 * h);
    if (z > 0.0F) CHECK(nucleus_response(z, defaults).slope == doctest::Approx(numeric).epsilon(2e-2));
    // q is a root of a q² + b q + c = 0.
    const double q = nucleus_response(z, defaults).q;
    const double a = 0.05 * 19 * (0.005 + z);
    const double b = -((0.005 + 0.001) * 0.05 * 19 + 20 * (0.005 + z) + 0.001);
    CHECK(std::fabs(a * q * q + b * q + 20 * 0.005) < 1e-7);
  }
}

TEST_CASE("dense nuclei gradients match finite differences") {
  Rng rng(32);
  DenseNuclei layer(6, 4, {.init_high = 0.05F});
  test::check_layer(layer, test::random_matrix(3, 6, rng, 0.0F, 1.0F), rng, test::Tolerance{1e-3, 1e-3, 3e-2});
}

}  // namespace rnn
