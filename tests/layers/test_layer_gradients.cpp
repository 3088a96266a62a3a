// Every layer's backward pass against central finite differences, for its parameters and
// its input.
#include <doctest/doctest.h>

#include <memory>

#include "rnn/layers/activation.hpp"
#include "rnn/layers/conv2d.hpp"
#include "rnn/layers/dense.hpp"
#include "rnn/layers/dropout.hpp"
#include "rnn/layers/flatten.hpp"
#include "rnn/layers/maxpool2d.hpp"
#include "rnn/layers/rnl.hpp"
#include "rnn/layers/scale.hpp"
#include "rnn/layers/standardize.hpp"
#include "support/gradient_check.hpp"

namespace rnn {
namespace {

using test::Tolerance;

using test::check_layer;

TEST_CASE("rnl gradients match finite differences") {
  Rng rng(11);
  RandomNeuralLayer layer(7, 5, RnlOptions{RnlInit::scaled_uniform, 2.0F});
  check_layer(layer, test::random_matrix(4, 7, rng, 0.0F, 1.0F), rng);
}

TEST_CASE("rnl with keras initialisation and large inputs") {
  Rng rng(12);
  RandomNeuralLayer layer(6, 3, RnlOptions{RnlInit::keras_uniform, 1.0F});
  check_layer(layer, test::random_matrix(3, 6, rng, 0.0F, 3.0F), rng);
}

TEST_CASE("rnl on sparse inputs (the pixel path) matches finite differences") {
  Rng rng(15);
  RandomNeuralLayer layer(20, 6, RnlOptions{RnlInit::scaled_uniform, 2.0F});
  Matrix x = test::random_matrix(5, 20, rng, 0.0F, 1.0F);
  test::zero_out(x, 0.85F, rng);
  check_layer(layer, x, rng);
}

TEST_CASE("rnl sparse and dense paths agree") {
  Rng rng(16);
  RandomNeuralLayer layer(30, 8);
  ParameterLayout layout;
  layer.declare_parameters(layout, "r");
  std::vector<float> p(layout.size());
  layer.initialise(p, rng);
  Matrix sparse_x = test::random_matrix(6, 30, rng, 0.0F, 1.0F);
  test::zero_out(sparse_x, 0.9F, rng);
  // The same values plus a tiny dense offset push the input over the density threshold.
  Matrix dense_x = sparse_x.array() + 1e-30F;
  const Matrix g = test::random_matrix(6, 8, rng, -1.0F, 1.0F);
  std::vector<float> grad_sparse(layout.size());
  std::vector<float> grad_dense(layout.size());
  Matrix y_sparse;
  Matrix y_dense;
  auto s1 = layer.make_state();
  auto s2 = layer.make_state();
  layer.forward(p, sparse_x, y_sparse, s1.get(), true);
  layer.forward(p, dense_x, y_dense, s2.get(), true);
  layer.backward(p, sparse_x, y_sparse, g, nullptr, grad_sparse, s1.get());
  layer.backward(p, dense_x, y_dense, g, nullptr, grad_dense, s2.get());
  CHECK(y_sparse.isApprox(y_dense, 1e-5F));
  for (std::size_t i = 0; i < grad_sparse.size(); ++i)
    CHECK(grad_sparse[i] == doctest::Approx(grad_dense[i]).epsilon(1e-4));
}

TEST_CASE("rnl forward is N / D with non-negative outputs") {
  Rng rng(13);
  RandomNeuralLayer layer(3, 2);
  ParameterLayout layout;
  layer.declare_parameters(layout, "r");
  REQUIRE(layout.segments().size() == 2);
  CHECK(layout.segments()[0].non_negative);
  CHECK(layout.segments()[1].non_negative);
  std::vector<float> p(layout.size());
  layer.initialise(p, rng);
  for (const float v : p) CHECK(v >= 0.0F);
  const Matrix x = test::random_matrix(2, 3, rng, 0.0F, 1.0F);
  Matrix y;
  auto st = layer.make_state();
  layer.forward(p, x, y, st.get(), false);
  const ConstMatrixMap wp = view(std::span<const float>(p), layout.segments()[0]);
  const ConstMatrixMap wm = view(std::span<const float>(p), layout.segments()[1]);
  for (int b = 0; b < 2; ++b) {
    for (int j = 0; j < 2; ++j) {
      const float n = x.row(b).dot(wp.col(j));
      const float d = 1.0F + x.row(b).dot(wm.col(j));
      CHECK(y(b, j) == doctest::Approx(n / d).epsilon(1e-5));
      CHECK(y(b, j) >= 0.0F);
    }
  }
}

TEST_CASE("rnl with all weights projected to zero gives zeros, not NaN") {
  RandomNeuralLayer layer(4, 3);
  ParameterLayout layout;
  layer.declare_parameters(layout, "r");
  std::vector<float> p(layout.size(), 0.0F);
  Rng rng(14);
  const Matrix x = test::random_matrix(2, 4, rng, 0.0F, 1.0F);
  Matrix y;
  auto st = layer.make_state();
  layer.forward(p, x, y, st.get(), true);
  CHECK(y.isZero());
  Matrix dx;
  std::vector<float> grad(layout.size());
  layer.backward(p, x, y, Matrix::Ones(2, 3), &dx, grad, st.get());
  CHECK(dx.allFinite());
  for (const float v : grad) CHECK(std::isfinite(v));
}

TEST_CASE("dense gradients match finite differences") {
  Rng rng(21);
  Dense layer(6, 4, AffineInit{WeightInit::glorot_uniform, 0.1F, 0.3F});
  check_layer(layer, test::random_matrix(3, 6, rng, -1.0F, 1.0F), rng);
}

TEST_CASE("activation gradients match finite differences") {
  Rng rng(31);
  for (const ActivationKind kind : {ActivationKind::relu, ActivationKind::sigmoid, ActivationKind::tanh}) {
    Activation layer(kind, Shape{1, 1, 8});
    Matrix x = test::random_matrix(3, 8, rng, -2.0F, 2.0F);
    // Keep ReLU inputs away from the kink, where the derivative is undefined.
    for (Eigen::Index i = 0; i < x.size(); ++i) {
      if (std::fabs(x.data()[i]) < 0.1F) x.data()[i] += 0.2F;
    }
    CAPTURE(layer.kind());
    check_layer(layer, x, rng);
  }
}

TEST_CASE("conv2d gradients match finite differences") {
  Rng rng(41);
  Conv2D layer(Shape{5, 4, 2}, 3, AffineInit{WeightInit::he_uniform, 0.1F, 0.1F});
  check_layer(layer, test::random_matrix(2, 5 * 4 * 2, rng, -1.0F, 1.0F), rng);
}

TEST_CASE("conv2d equals a direct 3x3 SAME convolution") {
  Rng rng(42);
  const Shape in{4, 5, 2};
  Conv2D layer(in, 3);
  ParameterLayout layout;
  layer.declare_parameters(layout, "c");
  std::vector<float> p(layout.size());
  layer.initialise(p, rng);
  const Matrix x = test::random_matrix(2, in.size(), rng, -1.0F, 1.0F);
  Matrix y;
  auto st = layer.make_state();
  layer.forward(p, x, y, st.get(), false);
  const ConstMatrixMap w = view(std::span<const float>(p), layout.segments()[0]);
  const ConstMatrixMap bias = view(std::span<const float>(p), layout.segments()[1]);
  for (int b = 0; b < 2; ++b) {
    for (int r = 0; r < in.height; ++r) {
      for (int c = 0; c < in.width; ++c) {
        for (int k = 0; k < 3; ++k) {
          double s = bias(0, k);
          for (int ky = -1; ky <= 1; ++ky) {
            for (int kx = -1; kx <= 1; ++kx) {
              const int rr = r + ky;
              const int cc = c + kx;
              if (rr < 0 || rr >= in.height || cc < 0 || cc >= in.width) continue;
              for (int ch = 0; ch < in.channels; ++ch) {
                s += static_cast<double>(w(k, ((ky + 1) * 3 + (kx + 1)) * in.channels + ch)) *
                     static_cast<double>(x(b, (rr * in.width + cc) * in.channels + ch));
              }
            }
          }
          CHECK(y(b, (r * in.width + c) * 3 + k) == doctest::Approx(s).epsilon(1e-4));
        }
      }
    }
  }
}

TEST_CASE("maxpool gradients match finite differences") {
  Rng rng(51);
  MaxPool2D layer(Shape{4, 6, 2});
  // Distinct values spaced well beyond the finite-difference step, so no window changes winner.
  Matrix x(2, 4 * 6 * 2);
  std::vector<float> values(static_cast<std::size_t>(x.size()));
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = 0.1F * static_cast<float>(i);
  rng.shuffle(std::span(values));
  std::copy(values.begin(), values.end(), x.data());
  check_layer(layer, x, rng);
}

TEST_CASE("flatten and scale gradients match finite differences") {
  Rng rng(61);
  Flatten flatten(Shape{2, 3, 2});
  check_layer(flatten, test::random_matrix(2, 12, rng, -1.0F, 1.0F), rng);
  Scale scale(4.0F, Shape{1, 1, 5});
  check_layer(scale, test::random_matrix(2, 5, rng, -1.0F, 1.0F), rng);
}

TEST_CASE("per-sample standardize gradients match finite differences, on both branches") {
  Rng rng(81);
  Standardize layer(Shape{1, 1, 9});
  Matrix x = test::random_matrix(3, 9, rng, 0.0F, 3.0F);  // σ ≈ 0.87 > 1/3: s depends on x
  check_layer(layer, x, rng, Tolerance{1e-3, 2e-3, 2e-2});
  Matrix flat = test::random_matrix(2, 9, rng, 0.5F, 0.52F);  // σ < 1/3: s = 1/3 is constant
  check_layer(layer, flat, rng, Tolerance{1e-3, 2e-3, 2e-2});
  Matrix y;
  auto st = layer.make_state();
  layer.forward({}, x, y, st.get(), false);
  for (int b = 0; b < 3; ++b) {
    CHECK(y.row(b).mean() == doctest::Approx(0.0).epsilon(1e-5).scale(1.0));
    CHECK(std::sqrt(y.row(b).squaredNorm() / 9.0F) == doctest::Approx(1.0).epsilon(1e-4));
  }
}

TEST_CASE("dropout zeroes about p of the units, rescales the rest, and routes gradients the same way") {
  Rng rng(71);
  const float rate = 0.25F;
  Dropout layer(rate, Shape{1, 1, 1000}, 5);
  auto st = layer.make_state();
  const Matrix x = test::random_matrix(8, 1000, rng, 0.5F, 1.0F);
  Matrix y;
  layer.forward({}, x, y, st.get(), true);
  int dropped = 0;
  for (Eigen::Index i = 0; i < x.size(); ++i) {
    const float ratio = y.data()[i] / x.data()[i];
    if (ratio == 0.0F) {
      ++dropped;
    } else {
      CHECK(ratio == doctest::Approx(1.0 / (1.0 - rate)));
    }
  }
  const double fraction = static_cast<double>(dropped) / static_cast<double>(x.size());
  CHECK(fraction == doctest::Approx(rate).epsilon(0.1));
  const Matrix g = test::random_matrix(8, 1000, rng, -1.0F, 1.0F);
  Matrix dx;
  layer.backward({}, x, y, g, &dx, {}, st.get());
  for (Eigen::Index i = 0; i < x.size(); ++i)
    CHECK(dx.data()[i] == doctest::Approx(g.data()[i] * y.data()[i] / x.data()[i]));
  layer.forward({}, x, y, st.get(), false);
  CHECK(y == x);
}

}  // namespace
}  // namespace rnn

namespace rnn {

TEST_CASE("dropout masks depend on the stream number, not on how many states were made before") {
  const Dropout layer(0.5F, Shape{1, 1, 64}, 9);
  const Matrix x = Matrix::Ones(4, 64);
  const auto first = layer.make_state(3);
  const auto unrelated = layer.make_state(0);
  const auto again = layer.make_state(3);
  const auto other = layer.make_state(4);
  Matrix y_first;
  Matrix y_again;
  Matrix y_other;
  layer.forward({}, x, y_first, first.get(), true);
  layer.forward({}, x, y_again, again.get(), true);
  layer.forward({}, x, y_other, other.get(), true);
  CHECK(y_first == y_again);
  CHECK(y_first != y_other);
  CHECK(unrelated != nullptr);
}

}  // namespace rnn
