#pragma once
// Matrix aliases used throughout rnnl. Activations are batch-major: one sample per row,
// features in the row, so a layer over a batch is one GEMM with the batch as the M dimension.
#include <Eigen/Core>

namespace rnn {

using Scalar = float;
using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Vector = Eigen::Matrix<Scalar, Eigen::Dynamic, 1>;
using RowVector = Eigen::Matrix<Scalar, 1, Eigen::Dynamic>;
using MatrixMap = Eigen::Map<Matrix>;
using ConstMatrixMap = Eigen::Map<const Matrix>;
using VectorMap = Eigen::Map<Vector>;
using ConstVectorMap = Eigen::Map<const Vector>;

// Per-sample feature shape, channels-last (HWC) so a flattened sample is one row.
struct Shape {
  int height = 1;
  int width = 1;
  int channels = 1;
  [[nodiscard]] constexpr int size() const { return height * width * channels; }
  friend constexpr bool operator==(const Shape&, const Shape&) = default;
};

// out[j] = Σ_i m(i, j), summed row by row. Eigen's vectorised colwise().sum() changes its
// summation order with the destination's alignment, so the same gradient written into two
// differently aligned buffers would differ in the last bits; this keeps results bit-identical.
template <typename Derived>
void column_sums(const Eigen::MatrixBase<Derived>& m, Scalar* out) {
  Eigen::Map<RowVector> sums(out, m.cols());
  sums.setZero();
  for (Eigen::Index i = 0; i < m.rows(); ++i) sums += m.row(i);
}

// Σ_k v[k] in an order fixed by n alone (16 running lane sums, then the lanes, then the tail).
// Eigen's sum() on a Map peels elements up to the first aligned address, so its result depends on
// where the data happens to sit; this one gives the same bits for a copy of the same values.
inline Scalar fixed_order_sum(const Scalar* v, Eigen::Index n) {
  constexpr Eigen::Index kLanes = 16;
  Scalar lanes[kLanes] = {};
  Eigen::Index k = 0;
  for (; k + kLanes <= n; k += kLanes) {
    for (Eigen::Index l = 0; l < kLanes; ++l) lanes[l] += v[k + l];
  }
  Scalar sum = 0.0F;
  for (const Scalar lane : lanes) sum += lane;
  for (; k < n; ++k) sum += v[k];
  return sum;
}

}  // namespace rnn
