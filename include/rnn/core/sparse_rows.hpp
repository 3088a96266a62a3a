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
  // Fraction of non-zeros in x: one vectorised pass, so a caller can decide before building.
  [[nodiscard]] static double density(const Matrix& x);
  // Rebuilds from x. Buffers keep their capacity, and are sized for a fully dense x whenever the
  // shape changes, so a steady batch shape never reallocates.
  void assign(const Matrix& x);

  // out_a = X A and out_b = X B (X: this, rows x cols; A, B: cols x width), over the non-zeros
  // only; parallel over pairs of rows. Each output row is summed in registers a column block at a
  // time and written once; two rows walk their non-zeros together so an operand row both use is
  // loaded once.
  void times(const ConstMatrixMap& a, const ConstMatrixMap& b, Matrix& out_a, Matrix& out_b) const;
  // out_a = Xᵀ G and out_b = Xᵀ H (G, H: rows x width); parallel over pairs of rows of out (pairs
  // of columns of X, which for images share most of their non-zeros). Every row of out is written
  // once, zero for a column of X without non-zeros.
  void transpose_times(const Matrix& g, const Matrix& h, MatrixMap out_a, MatrixMap out_b) const;
  // Rows [first, last) of weight · Xᵀ G and weight · Xᵀ H, written to out_a and out_b (last − first
  // rows each) or, with `accumulate`, added to them; on the calling thread only. For threads that
  // split a gradient Σ_s w_s X_sᵀ G_s between them by its rows, a cache-sized block at a time.
  void transpose_times_rows(const Matrix& g, const Matrix& h, Eigen::Index first, Eigen::Index last, float weight,
                            bool accumulate, MatrixMap out_a, MatrixMap out_b) const;

  // One row of X (CSR) or one column (CSC): `count` sorted indices with their values.
  struct Entries {
    const int* index = nullptr;
    const float* value = nullptr;
    int count = 0;
  };

 private:
  [[nodiscard]] Entries row_entries(Eigen::Index r) const;
  [[nodiscard]] Entries column_entries(Eigen::Index c) const;

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
