// rnn::gemm against a double-precision product, on whichever backend the build uses (OpenBLAS
// or Eigen): every combination of transposes, β = 0 (C's old contents ignored, even NaN), 1 and
// another value, degenerate shapes, and a destination that is a block of a larger matrix.
#include <doctest/doctest.h>

#include <limits>

#include "rnn/core/error.hpp"
#include "rnn/core/gemm.hpp"
#include "support/gradient_check.hpp"

namespace rnn {
namespace {

using MatrixD = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

MatrixD apply(const Matrix& m, Op op) {
  const MatrixD d = m.cast<double>();
  return op == Op::none ? d : MatrixD(d.transpose());
}

void check_gemm(Eigen::Index m, Eigen::Index n, Eigen::Index k, Op op_a, Op op_b, float alpha, float beta,
                std::uint64_t seed) {
  CAPTURE(m);
  CAPTURE(n);
  CAPTURE(k);
  CAPTURE(op_a == Op::transpose);
  CAPTURE(op_b == Op::transpose);
  CAPTURE(beta);
  Rng rng(seed);
  const Matrix a =
      op_a == Op::none ? test::random_matrix(m, k, rng, -1.0F, 1.0F) : test::random_matrix(k, m, rng, -1.0F, 1.0F);
  const Matrix b =
      op_b == Op::none ? test::random_matrix(k, n, rng, -1.0F, 1.0F) : test::random_matrix(n, k, rng, -1.0F, 1.0F);
  // C is the middle of a wider matrix, so its rows are further apart than its width.
  Matrix storage = test::random_matrix(m, n + 5, rng, -1.0F, 1.0F);
  if (beta == 0.0F) storage.setConstant(std::numeric_limits<float>::quiet_NaN());
  const MatrixD before = storage.middleCols(2, n).cast<double>();
  MatrixRef c = storage.middleCols(2, n);
  gemm(alpha, a, op_a, b, op_b, beta, c);

  MatrixD want = static_cast<double>(alpha) * apply(a, op_a) * apply(b, op_b);
  if (beta != 0.0F) want += static_cast<double>(beta) * before;
  if (want.size() == 0) return;
  REQUIRE(storage.middleCols(2, n).allFinite());
  const double error = (storage.middleCols(2, n).cast<double>() - want).cwiseAbs().maxCoeff();
  CHECK(error <= 1e-5 * (1.0 + static_cast<double>(k)));
}

}  // namespace

TEST_CASE("gemm equals the double-precision product for every transpose, β and shape") {
  std::uint64_t seed = 1;
  for (const Op op_a : {Op::none, Op::transpose}) {
    for (const Op op_b : {Op::none, Op::transpose}) {
      for (const float beta : {0.0F, 1.0F, 0.5F}) {
        for (const auto& [m, n, k] : {std::tuple<Eigen::Index, Eigen::Index, Eigen::Index>{7, 5, 3},
                                      {64, 96, 130},
                                      {1, 33, 17},
                                      {19, 1, 8},
                                      {5, 6, 1},
                                      {4, 3, 0},
                                      {0, 4, 3}}) {
          check_gemm(m, n, k, op_a, op_b, -1.5F, beta, seed++);
        }
      }
    }
  }
}

TEST_CASE("gemm refuses shapes that do not multiply") {
  const Matrix a(3, 4);
  const Matrix b(5, 2);
  Matrix c(3, 2);
  CHECK_THROWS_AS(gemm(1.0F, a, Op::none, b, Op::none, 0.0F, c), Error);
  Matrix wrong(2, 2);
  const Matrix b4(4, 2);
  CHECK_THROWS_AS(gemm(1.0F, a, Op::none, b4, Op::none, 0.0F, wrong), Error);
}

}  // namespace rnn
