#include <doctest/doctest.h>

#include <vector>

#include "rnn/core/error.hpp"
#include "rnn/core/rng.hpp"
#include "rnn/gelenbe/dense_lu.hpp"

namespace rnn {
namespace {

// The back ends this build has: Eigen always, LAPACK with RNNL_BLAS.
std::vector<LuBackend> backends() {
  std::vector<LuBackend> out{LuBackend::eigen};
  if (lapack_available()) out.push_back(LuBackend::lapack);
  return out;
}

// A non-symmetric matrix shaped like the recurrent RNN's I − W: identity minus a random matrix
// of spectral radius < 1, plus a row swap need (a small leading pivot) so that pivoting matters.
Eigen::MatrixXd test_matrix(Eigen::Index n, std::uint64_t seed) {
  Rng rng(seed);
  Eigen::MatrixXd a(n, n);
  for (Eigen::Index i = 0; i < a.size(); ++i) a.data()[i] = rng.uniform(-1.0F, 1.0F) / static_cast<double>(n);
  a.diagonal().array() += 1.0;
  a(0, 0) = 1e-3;
  return a;
}

Eigen::VectorXd test_vector(Eigen::Index n, std::uint64_t seed) {
  Rng rng(seed, 2);
  Eigen::VectorXd b(n);
  for (Eigen::Index i = 0; i < n; ++i) b[i] = rng.uniform(-1.0F, 1.0F);
  return b;
}

Eigen::MatrixXd inverse_of(const DenseLu& lu, Eigen::Index n) {
  Eigen::MatrixXd out(n, n);
  lu.invert(out);
  return out;
}

}  // namespace

TEST_CASE("dense LU solves and inverts with every back end, on both sides of the automatic switch") {
  for (const LuBackend backend : backends()) {
    for (const Eigen::Index n : {Eigen::Index{1}, Eigen::Index{7}, DenseLu::kLapackFromSize - 1,
                                 DenseLu::kLapackFromSize, Eigen::Index{300}}) {
      CAPTURE(static_cast<int>(backend));
      CAPTURE(n);
      const Eigen::MatrixXd a = test_matrix(n, static_cast<std::uint64_t>(n));
      const Eigen::VectorXd b = test_vector(n, static_cast<std::uint64_t>(n));
      // In padded storage, as the recurrent RNN keeps it; the padding rows stay untouched.
      Eigen::MatrixXd storage = Eigen::MatrixXd::Constant(DenseLu::padded_rows(n), n, 7.0);
      storage.topRows(n) = a;
      const DenseLu lu(storage.topRows(n), backend);
      CHECK((storage.bottomRows(storage.rows() - n).array() == 7.0).all());
      CHECK(lu.backend() == backend);
      CHECK_FALSE(lu.singular());
      Eigen::VectorXd z = b;
      lu.solve(z);
      CHECK((a * z - b).cwiseAbs().maxCoeff() <= 1e-12);
      const Eigen::MatrixXd inverse = inverse_of(lu, n);
      CHECK((inverse * a - Eigen::MatrixXd::Identity(n, n)).cwiseAbs().maxCoeff() <= 1e-12);
      // Solving twice with one factorisation gives the same bits: the factors are not consumed.
      Eigen::VectorXd again = b;
      lu.solve(again);
      CHECK(again == z);
    }
  }
}

TEST_CASE("the LU back ends agree to rounding") {
  if (!lapack_available()) return;  // nothing to compare: the Eigen-only build
  for (const Eigen::Index n : {Eigen::Index{9}, Eigen::Index{256}}) {
    CAPTURE(n);
    const Eigen::MatrixXd a = test_matrix(n, 3);
    Eigen::MatrixXd eigen_factors = a;
    Eigen::MatrixXd lapack_factors = a;
    const DenseLu eigen_lu(eigen_factors, LuBackend::eigen);
    const DenseLu lapack_lu(lapack_factors, LuBackend::lapack);
    Eigen::VectorXd from_eigen = test_vector(n, 3);
    Eigen::VectorXd from_lapack = from_eigen;
    eigen_lu.solve(from_eigen);
    lapack_lu.solve(from_lapack);
    CHECK((from_eigen - from_lapack).cwiseAbs().maxCoeff() <= 1e-13 * (1 + from_eigen.cwiseAbs().maxCoeff()));
    const Eigen::MatrixXd inverse = inverse_of(eigen_lu, n);
    CHECK((inverse - inverse_of(lapack_lu, n)).cwiseAbs().maxCoeff() <= 1e-12 * inverse.cwiseAbs().maxCoeff());
  }
}

TEST_CASE("the automatic LU back end is Eigen for small matrices, and LAPACK only where present") {
  CHECK(automatic_lu_backend(DenseLu::kLapackFromSize - 1) == LuBackend::eigen);
  if (!lapack_available()) CHECK(automatic_lu_backend(4096) == LuBackend::eigen);
  Eigen::MatrixXd large = test_matrix(DenseLu::kLapackFromSize, 1);
  CHECK(DenseLu(large).backend() == automatic_lu_backend(DenseLu::kLapackFromSize));
}

TEST_CASE("padded LU storage: the fewest rows >= n that make an odd number of cache lines") {
  CHECK(DenseLu::padded_rows(1) == 8);
  CHECK(DenseLu::padded_rows(8) == 8);
  CHECK(DenseLu::padded_rows(9) == 24);  // 16 would be two lines
  CHECK(DenseLu::padded_rows(248) == 248);
  CHECK(DenseLu::padded_rows(250) == 264);
  CHECK(DenseLu::padded_rows(256) == 264);
  for (Eigen::Index n = 1; n < 600; ++n) {
    const Eigen::Index rows = DenseLu::padded_rows(n);
    CHECK(rows >= n);
    CHECK(rows % 8 == 0);
    CHECK((rows / 8) % 2 == 1);
    CHECK(rows - n < 16);
  }
}

TEST_CASE("dense LU reports an exactly singular matrix, and refuses what it cannot do") {
  for (const LuBackend backend : backends()) {
    CAPTURE(static_cast<int>(backend));
    Eigen::MatrixXd a = test_matrix(6, 4);
    a.col(2).setZero();  // rank 5: elimination meets a zero pivot
    CHECK(DenseLu(a, backend).singular());
    Eigen::MatrixXd wide(3, 4);
    CHECK_THROWS_AS(DenseLu(wide, backend), Error);
    Eigen::MatrixXd square = test_matrix(4, 5);
    const DenseLu lu(square, backend);
    Eigen::VectorXd wrong(3);
    CHECK_THROWS_AS(lu.solve(wrong), Error);
    Eigen::MatrixXd wrong_shape(4, 3);
    CHECK_THROWS_AS(lu.invert(wrong_shape), Error);
  }
  if (!lapack_available()) {
    Eigen::MatrixXd a = test_matrix(4, 6);
    CHECK_THROWS_WITH_AS(DenseLu(a, LuBackend::lapack), doctest::Contains("RNNL_BLAS"), Error);
  }
}

}  // namespace rnn
