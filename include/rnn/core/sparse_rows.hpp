#pragma once
// The non-zeros of a batch-major dense matrix, indexed both by row (CSR) and by column (CSC),
// rebuilt in place for every batch (buffers are reused). Layers use it when their input is
// mostly zeros, as raw image pixels are: a product with the input then costs O(nnz · width)
// instead of O(rows · cols · width).
#include <vector>

#include "rnn/core/tensor.hpp"

namespace rnn {

class SparseRows {
 public:
  // Rebuilds from x; returns the fraction of non-zeros.
  double assign(const Matrix& x);

  // out = X W   (X: this, rows x cols; W: cols x width, row-major) — parallel over rows.
  void times(const ConstMatrixMap& w, Matrix& out) const;
  // out = Xᵀ G  (G: rows x width) — parallel over columns of X, i.e. rows of out.
  void transpose_times(const Matrix& g, MatrixMap out) const;

 private:
  Eigen::Index rows_ = 0;
  Eigen::Index cols_ = 0;
  std::vector<int> row_start_;  // CSR
  std::vector<int> row_col_;
  std::vector<float> row_val_;
  std::vector<int> col_start_;  // CSC
  std::vector<int> col_row_;
  std::vector<float> col_val_;
  std::vector<int> scratch_;  // next free slot per column while building the CSC
};

}  // namespace rnn
