// The sparse products against Eigen's dense ones, for widths that exercise every code path:
// whole register blocks (64 or 128 columns), whole-vector remainders and scalar remainders.
#include <doctest/doctest.h>

#include <algorithm>
#include <limits>

#include "rnn/core/sparse_rows.hpp"
#include "support/gradient_check.hpp"

namespace rnn {
namespace {

void check_products(Eigen::Index rows, Eigen::Index cols, Eigen::Index width, float zeros, std::uint64_t seed) {
  CAPTURE(rows);
  CAPTURE(cols);
  CAPTURE(width);
  Rng rng(seed);
  Matrix x = test::random_matrix(rows, cols, rng, -1.0F, 1.0F);
  test::zero_out(x, zeros, rng);
  if (rows > 1) x.row(1).setZero();  // an empty row of X
  if (cols > 2) x.col(2).setZero();  // an empty column of X, i.e. a row of Xᵀ G with no terms
  const Matrix a = test::random_matrix(cols, width, rng, -1.0F, 1.0F);
  const Matrix b = test::random_matrix(cols, width, rng, -1.0F, 1.0F);
  const Matrix g = test::random_matrix(rows, width, rng, -1.0F, 1.0F);
  const Matrix h = test::random_matrix(rows, width, rng, -1.0F, 1.0F);

  // Operands one float past an aligned start, and results filled with NaN first: every entry of a
  // result must be written, zeros included.
  const auto misaligned = [](const Matrix& m) {
    Matrix padded(m.rows() * m.cols() + 1, 1);
    std::copy_n(m.data(), m.size(), padded.data() + 1);
    return padded;
  };
  const Matrix a_storage = misaligned(a);
  const Matrix b_storage = misaligned(b);
  SparseRows sparse;
  sparse.assign(x);
  Matrix xa = Matrix::Constant(rows, width, std::numeric_limits<float>::quiet_NaN());
  Matrix xb = xa;
  sparse.times(ConstMatrixMap(a_storage.data() + 1, cols, width), ConstMatrixMap(b_storage.data() + 1, cols, width), xa,
               xb);
  const Matrix want_xa = x * a;
  const Matrix want_xb = x * b;
  REQUIRE(xa.rows() == rows);
  REQUIRE(xa.cols() == width);
  CHECK((xa - want_xa).cwiseAbs().maxCoeff() <= 1e-5F * (1.0F + want_xa.cwiseAbs().maxCoeff()));
  CHECK((xb - want_xb).cwiseAbs().maxCoeff() <= 1e-5F * (1.0F + want_xb.cwiseAbs().maxCoeff()));

  Matrix xtg = Matrix::Constant(cols, width, std::numeric_limits<float>::quiet_NaN());
  Matrix xth = xtg;
  sparse.transpose_times(g, h, MatrixMap(xtg.data(), cols, width), MatrixMap(xth.data(), cols, width));
  const Matrix want_xtg = x.transpose() * g;
  const Matrix want_xth = x.transpose() * h;
  CHECK((xtg - want_xtg).cwiseAbs().maxCoeff() <= 1e-5F * (1.0F + want_xtg.cwiseAbs().maxCoeff()));
  CHECK((xth - want_xth).cwiseAbs().maxCoeff() <= 1e-5F * (1.0F + want_xth.cwiseAbs().maxCoeff()));
}

TEST_CASE("sparse products equal the dense ones for every width path") {
  std::uint64_t seed = 1;
  for (const Eigen::Index width : {1, 15, 16, 17, 40, 127, 128, 129, 144, 150, 300, 512}) {
    check_products(7, 23, width, 0.7F, seed++);
  }
}

TEST_CASE("sparse products on an MNIST-shaped batch, and with a fully dense or empty input") {
  check_products(64, 784, 512, 0.8F, 101);
  check_products(5, 9, 130, 0.0F, 102);
  check_products(4, 6, 130, 1.0F, 103);
}

TEST_CASE("sparse products refuse operands of the wrong shape") {
  Rng rng(7);
  const Matrix x = test::random_matrix(3, 4, rng, 0.0F, 1.0F);
  SparseRows sparse;
  sparse.assign(x);
  const Matrix a = test::random_matrix(5, 2, rng, 0.0F, 1.0F);
  Matrix out_a;
  Matrix out_b;
  CHECK_THROWS(sparse.times(ConstMatrixMap(a.data(), 5, 2), ConstMatrixMap(a.data(), 5, 2), out_a, out_b));
  const Matrix g = test::random_matrix(2, 2, rng, 0.0F, 1.0F);
  Matrix out(4, 2);
  CHECK_THROWS(sparse.transpose_times(g, g, MatrixMap(out.data(), 4, 2), MatrixMap(out.data(), 4, 2)));
}

}  // namespace
}  // namespace rnn
