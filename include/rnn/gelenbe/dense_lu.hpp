#pragma once
// LU factorisation with partial pivoting of a dense square matrix in double precision,
// P A = L U, factorised in place once and then used to solve A z = b or to form A⁻¹. The
// recurrent RNN factorises I − W with it once per pattern (recurrent.hpp).
//
// Storage: column-major with a leading dimension (distance between columns) of an odd number
// of 64-byte cache lines — padded_rows(n) — so that walking along a row touches every cache set.
// With n a power of two and no padding, a row's entries share a few sets and Eigen's LU runs
// 2–3× slower (n = 256, 512).
//
// Two back ends compute the same factorisation up to rounding:
//   eigen   Eigen's PartialPivLU, always present; its kernels are compiled for the build's CPU
//           flags.
//   lapack  LAPACK's dgetrf / dgetrs / dgetri from OpenBLAS, present when the library is built
//           with RNNL_BLAS=ON (the default); OpenBLAS picks its kernels at run time.
// automatic_lu_backend() takes Eigen when it is compiled with AVX2 (RNNL_NATIVE=ON on such a
// CPU), where on padded storage it is as fast as OpenBLAS or faster, and LAPACK otherwise from
// n = kLapackFromSize on, where OpenBLAS is 1.6–2.1× faster than Eigen's SSE2 code (n = 128–512;
// README, "Gelenbe's Random Neural Network"). Inside an OpenMP parallel region OpenBLAS runs
// single-threaded.
#include <Eigen/Core>
#include <Eigen/LU>
#include <cstdint>
#include <optional>
#include <vector>

namespace rnn {

enum class LuBackend : std::uint8_t { automatic, lapack, eigen };

using StridedMatrixRef = Eigen::Ref<Eigen::MatrixXd, 0, Eigen::OuterStride<>>;

// True when the library was built with OpenBLAS, whose LAPACK the `lapack` back end calls.
[[nodiscard]] bool lapack_available();

class DenseLu {
 public:
  // Below this size `automatic` never takes LAPACK: call and blocking overheads outweigh it.
  static constexpr Eigen::Index kLapackFromSize = 128;

  // Rows to allocate for an n × n matrix so that its leading dimension is an odd number of
  // cache lines (≥ n; the top n rows hold the matrix).
  [[nodiscard]] static Eigen::Index padded_rows(Eigen::Index n);

  // Factorises the square matrix `a` in place: afterwards `a` holds L and U, and this object
  // refers to its storage, which must outlive it unchanged. Throws rnn::Error if `a` is not
  // square or if `lapack` is asked for in a build without OpenBLAS.
  explicit DenseLu(StridedMatrixRef a, LuBackend backend = LuBackend::automatic);

  [[nodiscard]] LuBackend backend() const { return backend_; }  // lapack or eigen, never automatic
  // True if a pivot is exactly 0: A is singular and solve() / inverse() would divide by zero.
  [[nodiscard]] bool singular() const { return zero_pivot_; }
  void solve(Eigen::VectorXd& b) const;  // b ← A⁻¹ b
  // out ← A⁻¹ (n × n, best in padded storage: a power-of-two leading dimension slows the
  // triangular solves as much as the factorisation). Throws rnn::Error if `out` is not n × n.
  void invert(StridedMatrixRef out) const;

 private:
  StridedMatrixRef factors_;
  LuBackend backend_;
  std::vector<int> pivots_;  // lapack: 1-based row interchanges, as dgetrf returns them
  bool zero_pivot_ = false;
  std::optional<Eigen::PartialPivLU<StridedMatrixRef>> eigen_;
};

// The back end `automatic` resolves to for an n × n matrix in this build.
[[nodiscard]] LuBackend automatic_lu_backend(Eigen::Index n);

}  // namespace rnn
