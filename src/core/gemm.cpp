#include "rnn/core/gemm.hpp"

#include <fmt/format.h>

#include "rnn/core/error.hpp"

#if defined(RNNL_HAVE_OPENBLAS)
#include <cblas.h>
#endif

namespace rnn {
namespace {

Eigen::Index rows_of(const ConstMatrixRef& m, Op op) {
  return op == Op::none ? m.rows() : m.cols();
}
Eigen::Index cols_of(const ConstMatrixRef& m, Op op) {
  return op == Op::none ? m.cols() : m.rows();
}

#if !defined(RNNL_HAVE_OPENBLAS)
template <typename A, typename B>
void eigen_product(float alpha, const A& a, const B& b, float beta, MatrixRef& c) {
  if (beta == 0.0F) {
    c.noalias() = alpha * a * b;
  } else {
    if (beta != 1.0F) c *= beta;
    c.noalias() += alpha * a * b;
  }
}
#endif

}  // namespace

void gemm(float alpha, const ConstMatrixRef& a, Op op_a, const ConstMatrixRef& b, Op op_b, float beta, MatrixRef c) {
  const Eigen::Index m = rows_of(a, op_a);
  const Eigen::Index k = cols_of(a, op_a);
  const Eigen::Index n = cols_of(b, op_b);
  if (rows_of(b, op_b) != k || c.rows() != m || c.cols() != n) {
    throw Error(
        fmt::format("gemm: cannot multiply {}x{} by {}x{} into {}x{}", m, k, rows_of(b, op_b), n, c.rows(), c.cols()));
  }
  if (m == 0 || n == 0) return;
#if defined(RNNL_HAVE_OPENBLAS)
  if (k == 0) {
    // An m x 0 operand has leading dimension 0, which sgemm rejects; the product is empty.
    if (beta == 0.0F) {
      c.setZero();
    } else {
      c *= beta;
    }
    return;
  }
  const auto transpose = [](Op op) { return op == Op::none ? CblasNoTrans : CblasTrans; };
  cblas_sgemm(CblasRowMajor, transpose(op_a), transpose(op_b), static_cast<blasint>(m), static_cast<blasint>(n),
              static_cast<blasint>(k), alpha, a.data(), static_cast<blasint>(a.outerStride()), b.data(),
              static_cast<blasint>(b.outerStride()), beta, c.data(), static_cast<blasint>(c.outerStride()));
#else
  if (op_a == Op::none && op_b == Op::none) eigen_product(alpha, a, b, beta, c);
  if (op_a == Op::none && op_b == Op::transpose) eigen_product(alpha, a, b.transpose(), beta, c);
  if (op_a == Op::transpose && op_b == Op::none) eigen_product(alpha, a.transpose(), b, beta, c);
  if (op_a == Op::transpose && op_b == Op::transpose) eigen_product(alpha, a.transpose(), b.transpose(), beta, c);
#endif
}

bool gemm_uses_blas() {
#if defined(RNNL_HAVE_OPENBLAS)
  return true;
#else
  return false;
#endif
}

}  // namespace rnn
