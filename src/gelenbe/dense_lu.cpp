#include "rnn/gelenbe/dense_lu.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

#include "rnn/core/error.hpp"

#if defined(RNNL_HAVE_OPENBLAS)
#include <openblas_config.h>

#include <cstddef>

// LAPACK's Fortran entry points, as OpenBLAS exports them (Debian's libopenblas-openmp-dev ships
// no LAPACK header). Column-major arrays, every argument by address; dgetrs takes its one
// character argument's length last, per gfortran's convention.
extern "C" {
void dgetrf_(const blasint* m, const blasint* n, double* a, const blasint* lda, blasint* ipiv, blasint* info);
void dgetrs_(const char* trans, const blasint* n, const blasint* nrhs, const double* a, const blasint* lda,
             const blasint* ipiv, double* b, const blasint* ldb, blasint* info, std::size_t trans_length);
void dgetri_(const blasint* n, double* a, const blasint* lda, const blasint* ipiv, double* work, const blasint* lwork,
             blasint* info);
}
static_assert(sizeof(blasint) == sizeof(int), "DenseLu keeps LAPACK's pivots as int: a 32-bit-index OpenBLAS");
#endif

namespace rnn {
namespace {

#if defined(RNNL_HAVE_OPENBLAS)
blasint lapack_size(Eigen::Index n) {
  if (n > std::numeric_limits<blasint>::max()) throw Error(fmt::format("LU: {} rows is beyond LAPACK's indices", n));
  return static_cast<blasint>(n);
}

void check_info(blasint info, const char* routine) {
  // Negative: argument −info was invalid, which the calls below rule out; a library mismatch.
  if (info < 0) throw Error(fmt::format("LAPACK {} rejected argument {}", routine, -info));
}
#endif

LuBackend resolve(LuBackend backend, Eigen::Index n) {
  if (backend == LuBackend::lapack && !lapack_available())
    throw Error("LU back end 'lapack' needs a library built with RNNL_BLAS=ON (OpenBLAS)");
  return backend == LuBackend::automatic ? automatic_lu_backend(n) : backend;
}

}  // namespace

bool lapack_available() {
#if defined(RNNL_HAVE_OPENBLAS)
  return true;
#else
  return false;
#endif
}

LuBackend automatic_lu_backend(Eigen::Index n) {
#if defined(EIGEN_VECTORIZE_AVX2)
  constexpr bool eigen_has_avx2 = true;
#else
  constexpr bool eigen_has_avx2 = false;
#endif
  return lapack_available() && !eigen_has_avx2 && n >= DenseLu::kLapackFromSize ? LuBackend::lapack : LuBackend::eigen;
}

Eigen::Index DenseLu::padded_rows(Eigen::Index n) {
  constexpr Eigen::Index line = 64 / sizeof(double);
  const Eigen::Index lines = (n + line - 1) / line;
  return (lines % 2 == 1 ? lines : lines + 1) * line;
}

DenseLu::DenseLu(StridedMatrixRef a, LuBackend backend) : factors_(a), backend_(resolve(backend, a.rows())) {
  if (a.rows() != a.cols()) throw Error(fmt::format("LU of a {} x {} matrix: it must be square", a.rows(), a.cols()));
#if defined(RNNL_HAVE_OPENBLAS)
  if (backend_ == LuBackend::lapack) {
    const blasint n = lapack_size(a.rows());
    const blasint lda = lapack_size(std::max<Eigen::Index>(1, factors_.outerStride()));
    pivots_.resize(static_cast<std::size_t>(n));
    blasint info = 0;
    if (n > 0) dgetrf_(&n, &n, factors_.data(), &lda, pivots_.data(), &info);
    check_info(info, "dgetrf");
    zero_pivot_ = info > 0;  // U(info, info) is exactly 0
    return;
  }
#endif
  eigen_.emplace(factors_);
  zero_pivot_ = (factors_.diagonal().array() == 0.0).any();
}

void DenseLu::solve(Eigen::VectorXd& b) const {
  if (b.size() != factors_.rows())
    throw Error(fmt::format("LU solve: {} right-hand entries for {} rows", b.size(), factors_.rows()));
#if defined(RNNL_HAVE_OPENBLAS)
  if (backend_ == LuBackend::lapack) {
    const blasint n = lapack_size(factors_.rows());
    const blasint lda = lapack_size(std::max<Eigen::Index>(1, factors_.outerStride()));
    const blasint one = 1;
    blasint info = 0;
    if (n > 0) dgetrs_("N", &n, &one, factors_.data(), &lda, pivots_.data(), b.data(), &n, &info, 1);
    check_info(info, "dgetrs");
    return;
  }
#endif
  const Eigen::VectorXd x = eigen_->solve(b);  // a new vector: Eigen documents no aliasing for solve
  b = x;
}

void DenseLu::invert(StridedMatrixRef out) const {
  const Eigen::Index n = factors_.rows();
  if (out.rows() != n || out.cols() != n)
    throw Error(fmt::format("LU inverse: a {} x {} output for {} rows", out.rows(), out.cols(), n));
#if defined(RNNL_HAVE_OPENBLAS)
  if (backend_ == LuBackend::lapack) {
    if (n == 0) return;
    out = factors_;
    const blasint size = lapack_size(n);
    const blasint lda = lapack_size(out.outerStride());
    blasint info = 0;
    // A workspace query first (lwork = −1): dgetri runs blocked only with the size it asks for.
    const blasint query = -1;
    double optimal = 0.0;
    dgetri_(&size, out.data(), &lda, pivots_.data(), &optimal, &query, &info);
    check_info(info, "dgetri");
    const blasint lwork = std::max(size, static_cast<blasint>(optimal));
    std::vector<double> work(static_cast<std::size_t>(lwork));
    dgetri_(&size, out.data(), &lda, pivots_.data(), work.data(), &lwork, &info);
    check_info(info, "dgetri");
    // info > 0: a zero pivot, as singular() reports; dgetri leaves `out` unfinished then.
    if (info > 0) out.setConstant(std::numeric_limits<double>::quiet_NaN());
    return;
  }
#endif
  out = eigen_->solve(Eigen::MatrixXd::Identity(n, n));  // P, then the two triangular solves, in `out`
}

}  // namespace rnn
