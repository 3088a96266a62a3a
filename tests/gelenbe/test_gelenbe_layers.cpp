#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "rnn/core/error.hpp"
#include "rnn/gelenbe/dense_nuclei.hpp"
#include "rnn/gelenbe/feedforward.hpp"
#include "rnn/models/registry.hpp"
#include "rnn/train/optimizer.hpp"
#include "rnn/train/trainer.hpp"
#include "support/gradient_check.hpp"
#include "train/synthetic.hpp"

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

TEST_CASE("gelenbe_ff gradients match finite differences at the classic output rate from the default init") {
  Rng rng(34);
  for (const auto& sizes : {std::vector<int>{6, 5, 4}, std::vector<int>{5, 4, 4, 3}}) {
    CAPTURE(sizes.size());
    GelenbeFeedforward layer(sizes);  // the classic output rate 0.1 and the default κ
    test::check_layer(layer, test::random_matrix(3, sizes.front(), rng, -0.5F, 1.0F), rng,
                      test::Tolerance{1e-3, 1e-3, 2e-2});
  }
}

namespace {

// Fraction of the outputs of the 784-128-10 network (the gelenbe_ff model's shape) that are
// saturated (q = 1) at initialisation, over `seeds` initialisations and a batch of MNIST-like
// images; also the largest output.
struct Saturation {
  double fraction = 0.0;
  float largest = 0.0F;
};

Saturation saturation_at_init(const GelenbeFeedforwardOptions& options, int seeds) {
  GelenbeFeedforward layer({784, 128, 10}, options);
  ParameterLayout layout;
  layer.declare_parameters(layout, "g");
  const Matrix x = test::synthetic_digits(200, 41).images;
  Saturation out;
  for (int seed = 1; seed <= seeds; ++seed) {
    Rng rng(static_cast<std::uint64_t>(seed));
    std::vector<float> p(layout.size());
    layer.initialise(p, rng);
    auto st = layer.make_state();
    Matrix y;
    layer.forward(p, x, y, st.get(), false);
    out.fraction += static_cast<double>((y.array() >= 1.0F).count()) / static_cast<double>(y.size() * seeds);
    out.largest = std::max(out.largest, y.maxCoeff());
  }
  return out;
}

}  // namespace

TEST_CASE("gelenbe_ff outputs start unsaturated at the classic output rate") {
  const Saturation s = saturation_at_init({}, 5);
  CHECK(s.fraction == 0.0);
  CHECK(s.largest < 0.75F);  // q_L ≈ N / (r_L + κN) < 1/κ = 0.5 on average: a wide margin below 1
  // The mechanism: with inhibition and excitation alike (κ = 1) q_L ≈ N / M ≈ 1, and many outputs
  // start saturated for every input.
  const Saturation alike = saturation_at_init({.output_inhibition = 1.0F}, 5);
  CHECK(alike.fraction > 0.1);
}

TEST_CASE("gelenbe_ff initialisation keeps hidden firing rates near the gain whatever the output inhibition") {
  for (const float kappa : {1.0F, 2.0F, 4.0F}) {
    CAPTURE(kappa);
    GelenbeFeedforward layer({50, 400, 10}, {.output_inhibition = kappa});
    ParameterLayout layout;
    layer.declare_parameters(layout, "g");
    std::vector<float> p(layout.size());
    Rng rng(3);
    layer.initialise(p, rng);
    // Hidden neuron j's rate: row j of W⁺_1 plus row j of W⁻_1 (each 400 × 10, after W±_0).
    const std::size_t w1 = 2 * 50 * 400;
    double plus = 0.0;
    double minus = 0.0;
    for (std::size_t i = 0; i < 4000; ++i) {
      plus += p[w1 + i];
      minus += p[w1 + 4000 + i];
    }
    const double mean_rate = (plus + minus) / 400.0;
    CHECK(mean_rate == doctest::Approx(1.0).epsilon(0.05));
    CHECK(minus / plus == doctest::Approx(kappa).epsilon(0.05));
  }
}

TEST_CASE("the gelenbe_ff model learns a synthetic task in one epoch with its default recipe") {
  // rnnl-train's gelenbe_ff defaults: logits = 10·q, Adam 3e-3, batch 128.
  ModelOptions model_options;
  model_options.output_scale = 10.0F;
  const auto model = make_model("gelenbe_ff", model_options);
  std::vector<float> params = model->initial_parameters(1);
  auto opt = make_optimizer(OptimizerOptions{OptimizerKind::adam, 3e-3F}, model->layout());
  TrainOptions options;
  options.epochs = 1;
  options.batch = 128;
  options.progress = false;
  const DatasetPair data{test::synthetic_digits(3000, 1), test::synthetic_digits(500, 2)};
  const auto history = train(*model, params, *opt, data, options);
  REQUIRE(history.size() == 1);
  CHECK(history.back().test_accuracy > 0.9);
}

TEST_CASE("gelenbe_ff rejects non-positive or non-finite options") {
  CHECK_THROWS_AS(GelenbeFeedforward({3, 2}, {.output_rate = 0.0F}), Error);
  CHECK_THROWS_AS(GelenbeFeedforward({3, 2}, {.init_gain = -1.0F}), Error);
  CHECK_THROWS_AS(GelenbeFeedforward({3, 2}, {.output_inhibition = 0.0F}), Error);
  CHECK_THROWS_AS(GelenbeFeedforward({3, 2}, {.output_inhibition = std::nanf("")}), Error);
  CHECK_THROWS_AS(GelenbeFeedforward({3, 2}, {.output_rate = std::numeric_limits<float>::infinity()}), Error);
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
