#pragma once
// Finite-difference gradient checks for layers and models (float32 layers, so central
// differences with a moderate step and a mixed absolute/relative tolerance).
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <span>
#include <vector>

#include "rnn/core/rng.hpp"
#include "rnn/core/tensor.hpp"
#include "rnn/layers/layer.hpp"

namespace rnn::test {

struct Tolerance {
  double step = 1e-2;
  double absolute = 2e-3;
  double relative = 2e-2;
};

inline bool close(double analytic, double numeric, const Tolerance& tol) {
  return std::fabs(analytic - numeric) <=
         tol.absolute + tol.relative * std::max(std::fabs(analytic), std::fabs(numeric));
}

// Checks d(loss)/d(values[i]) for the chosen indices (all if `indices` is empty) against
// central differences of `loss`, which must read `values`. Returns the number of mismatches
// and reports the first few.
inline int check_partials(std::span<float> values, std::span<const float> analytic, const std::function<double()>& loss,
                          const Tolerance& tol, std::vector<std::size_t> indices = {}, const char* what = "") {
  if (indices.empty()) {
    for (std::size_t i = 0; i < values.size(); ++i) indices.push_back(i);
  }
  int mismatches = 0;
  for (const std::size_t i : indices) {
    const float saved = values[i];
    values[i] = static_cast<float>(saved + tol.step);
    const double up = loss();
    values[i] = static_cast<float>(saved - tol.step);
    const double down = loss();
    values[i] = saved;
    const double numeric = (up - down) / (2.0 * tol.step);
    if (!close(analytic[i], numeric, tol)) {
      if (++mismatches <= 5) {
        MESSAGE(what << " index " << i << ": analytic " << analytic[i] << " vs numeric " << numeric);
      }
    }
  }
  return mismatches;
}

// Σ g ∘ y in double: a scalar loss whose gradient with respect to y is exactly g.
inline double weighted_sum(const Matrix& y, const Matrix& g) {
  double s = 0.0;
  for (Eigen::Index i = 0; i < y.size(); ++i) s += static_cast<double>(y.data()[i]) * static_cast<double>(g.data()[i]);
  return s;
}

inline Matrix random_matrix(Eigen::Index rows, Eigen::Index cols, Rng& rng, float lo, float hi) {
  Matrix m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = rng.uniform(lo, hi);
  return m;
}

// Sets each entry to zero with probability `fraction` (inputs as sparse as image pixels).
inline void zero_out(Matrix& m, float fraction, Rng& rng) {
  for (Eigen::Index i = 0; i < m.size(); ++i)
    if (rng.uniform() < fraction) m.data()[i] = 0.0F;
}

// Random sample of `count` distinct-ish indices in [0, n).
inline std::vector<std::size_t> sample_indices(std::size_t n, std::size_t count, Rng& rng) {
  std::vector<std::size_t> out;
  if (n <= count) {
    for (std::size_t i = 0; i < n; ++i) out.push_back(i);
    return out;
  }
  for (std::size_t k = 0; k < count; ++k) out.push_back(rng.below(n));
  return out;
}

// Runs forward/backward once, then checks every parameter partial and every input partial.
inline void check_layer(Layer& layer, Matrix x, Rng& rng, const Tolerance& tol = {}) {
  ParameterLayout layout;
  layer.declare_parameters(layout, "layer");
  std::vector<float> params(layout.size());
  layer.initialise(params, rng);
  auto state = layer.make_state();

  Matrix y;
  layer.forward(params, x, y, state.get(), true);
  REQUIRE(y.cols() == layer.output_shape().size());
  const Matrix g = test::random_matrix(y.rows(), y.cols(), rng, -1.0F, 1.0F);
  std::vector<float> grad(layout.size(), std::nanf(""));
  Matrix dx;
  layer.backward(params, x, y, g, &dx, grad, state.get());
  REQUIRE(dx.rows() == x.rows());
  REQUIRE(dx.cols() == x.cols());

  const auto loss = [&] {
    Matrix out;
    auto fresh = layer.make_state();
    layer.forward(params, x, out, fresh.get(), true);
    return test::weighted_sum(out, g);
  };
  CHECK(test::check_partials(params, grad, loss, tol, {}, "parameter") == 0);
  std::vector<float> dx_flat(dx.data(), dx.data() + dx.size());
  CHECK(test::check_partials(std::span(x.data(), static_cast<std::size_t>(x.size())), dx_flat, loss, tol, {},
                             "input") == 0);
}

}  // namespace rnn::test
