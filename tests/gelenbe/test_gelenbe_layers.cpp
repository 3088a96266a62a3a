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

TEST_CASE("a saturated hidden gelenbe_ff neuron blocks the gradient below it, and only there") {
  GelenbeFeedforward layer({3, 2, 2}, {.output_rate = 1.0F, .init_gain = 1.0F});
  ParameterLayout layout;
  layer.declare_parameters(layout, "g");
  // W⁺_0, W⁻_0 (3×2), W⁺_1, W⁻_1 (2×2). Hidden neuron 0: strong excitation, weak inhibition and
  // a low firing rate (small outgoing weights): saturated with a wide margin. Hidden neuron 1 and
  // the outputs stay inside (0, 1).
  std::vector<float> p{2.0F,  0.2F,  2.0F,  0.3F, 2.0F,  0.25F,  // W⁺_0
                       0.01F, 0.2F,  0.01F, 0.1F, 0.01F, 0.3F,   // W⁻_0
                       0.05F, 0.02F, 0.3F,  0.2F,                // W⁺_1
                       0.03F, 0.05F, 0.1F,  0.4F};               // W⁻_1
  REQUIRE(p.size() == layout.size());
  const Matrix x = Matrix::Constant(2, 3, 0.5F);
  auto st = layer.make_state();
  Matrix y;
  layer.forward(p, x, y, st.get(), true);
  REQUIRE(y.maxCoeff() < 1.0F);
  Rng rng(5);
  const Matrix g = test::random_matrix(2, 2, rng, -1.0F, 1.0F);
  std::vector<float> grad(layout.size());
  Matrix dx;
  layer.backward(p, x, y, g, &dx, grad, st.get());
  const auto loss = [&] {
    Matrix out;
    auto fresh = layer.make_state();
    layer.forward(p, x, out, fresh.get(), true);
    return test::weighted_sum(out, g);
  };
  CHECK(test::check_partials(p, grad, loss, test::Tolerance{1e-3, 1e-4, 1e-2}, {}, "parameter") == 0);
  // (Without the saturation mask on hidden layers, gradients would flow back through hidden
  // neuron 0 and the comparison above fails.)
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

TEST_CASE("a dense nuclei cluster whose root exceeds 1 saturates at 1 with no gradient") {
  DenseNucleiOptions o;
  o.inhibitory = 0.0F;  // λ⁻ < λ⁺: at z = 0 the smaller root is ≈ 14.9
  const auto r = nucleus_response(0.0F, o);
  CHECK(r.q == 1.0F);
  CHECK(r.slope == 0.0F);
  CHECK(nucleus_response(1.0F, o).q < 1.0F);  // enough input brings it back
}

TEST_CASE("dense nuclei backward can be repeated after one forward") {
  Rng rng(33);
  DenseNuclei layer(5, 3, {.init_high = 0.05F});
  ParameterLayout layout;
  layer.declare_parameters(layout, "n");
  std::vector<float> p(layout.size());
  layer.initialise(p, rng);
  const Matrix x = test::random_matrix(2, 5, rng, 0.0F, 1.0F);
  const Matrix g = test::random_matrix(2, 3, rng, -1.0F, 1.0F);
  auto st = layer.make_state();
  Matrix y;
  layer.forward(p, x, y, st.get(), true);
  std::vector<float> first(layout.size());
  std::vector<float> second(layout.size());
  layer.backward(p, x, y, g, nullptr, first, st.get());
  layer.backward(p, x, y, g, nullptr, second, st.get());
  CHECK(first == second);
}

TEST_CASE("dense nuclei gradients match finite differences") {
  Rng rng(32);
  DenseNuclei layer(6, 4, {.init_high = 0.05F});
  test::check_layer(layer, test::random_matrix(3, 6, rng, 0.0F, 1.0F), rng, test::Tolerance{1e-3, 1e-3, 3e-2});
}

}  // namespace rnn
