// The sparse products against Eigen's dense ones, for widths that exercise every code path:
// whole register blocks, paired (two rows or two columns of X at once) and single, whole-vector
// remainders and scalar remainders, odd and even row and column counts.
#include <doctest/doctest.h>

#include <omp.h>

#include <algorithm>
#include <limits>
#include <vector>

#include "rnn/core/sparse_rows.hpp"
#include "support/gradient_check.hpp"

namespace rnn {
namespace {

// Largest |got - want| relative to the size of want; 0 for empty matrices, ∞ if got has a NaN.
float relative_error(const Matrix& got, const Matrix& want) {
  if (want.size() == 0) return 0.0F;
  if (!got.allFinite()) return std::numeric_limits<float>::infinity();  // an entry left unwritten
  return (got - want).cwiseAbs().maxCoeff() / (1.0F + want.cwiseAbs().maxCoeff());
}

void check_products(Eigen::Index rows, Eigen::Index cols, Eigen::Index width, float zeros, std::uint64_t seed) {
  CAPTURE(rows);
  CAPTURE(cols);
  CAPTURE(width);
  Rng rng(seed);
  Matrix x = test::random_matrix(rows, cols, rng, -1.0F, 1.0F);
  test::zero_out(x, zeros, rng);
  if (rows > 1) x.row(1).setZero();  // an empty row of X, paired with a non-empty one
  if (rows > 3) {
    x.row(2).setZero();  // a pair of empty rows
    x.row(3).setZero();
  }
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
  CHECK(relative_error(xa, want_xa) <= 1e-5F);
  CHECK(relative_error(xb, want_xb) <= 1e-5F);

  Matrix xtg = Matrix::Constant(cols, width, std::numeric_limits<float>::quiet_NaN());
  Matrix xth = xtg;
  sparse.transpose_times(g, h, MatrixMap(xtg.data(), cols, width), MatrixMap(xth.data(), cols, width));
  const Matrix want_xtg = x.transpose() * g;
  const Matrix want_xth = x.transpose() * h;
  CHECK(relative_error(xtg, want_xtg) <= 1e-5F);
  CHECK(relative_error(xth, want_xth) <= 1e-5F);
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
  check_products(1, 9, 70, 0.5F, 104);  // one row: no pair
  check_products(6, 1, 70, 0.5F, 105);  // one column: no pair in Xᵀ G
  check_products(0, 9, 70, 0.5F, 106);  // no rows
}

TEST_CASE("sparse products called from inside a parallel region give the same result") {
  Rng rng(8);
  Matrix x = test::random_matrix(9, 31, rng, 0.0F, 1.0F);
  test::zero_out(x, 0.7F, rng);
  const Matrix a = test::random_matrix(31, 150, rng, -1.0F, 1.0F);
  SparseRows sparse;
  sparse.assign(x);
  const ConstMatrixMap map(a.data(), 31, 150);
  Matrix outside_a;
  Matrix outside_b;
  sparse.times(map, map, outside_a, outside_b);
  std::vector<Matrix> inside(4);
#pragma omp parallel num_threads(4)
  {
    Matrix unused;
    sparse.times(map, map, inside[static_cast<std::size_t>(omp_get_thread_num())], unused);
  }
  for (const Matrix& m : inside) CHECK(m == outside_a);
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
