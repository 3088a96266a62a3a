#include "rnn/core/sparse_rows.hpp"

#include <algorithm>

namespace rnn {

double SparseRows::density(const Matrix& x) {
  if (x.size() == 0) return 0.0;
  return static_cast<double>((x.array() != 0.0F).count()) / static_cast<double>(x.size());
}

void SparseRows::assign(const Matrix& x) {
  if (x.rows() != rows_ || x.cols() != cols_) {
    const auto capacity = static_cast<std::size_t>(x.size());
    row_col_.reserve(capacity);
    row_val_.reserve(capacity);
    col_row_.reserve(capacity);
    col_val_.reserve(capacity);
  }
  rows_ = x.rows();
  cols_ = x.cols();
  row_start_.assign(static_cast<std::size_t>(rows_) + 1, 0);
  col_start_.assign(static_cast<std::size_t>(cols_) + 1, 0);
  row_col_.clear();
  row_val_.clear();
  for (Eigen::Index r = 0; r < rows_; ++r) {
    const float* xr = x.row(r).data();
    for (Eigen::Index c = 0; c < cols_; ++c) {
      if (xr[c] != 0.0F) {
        row_col_.push_back(static_cast<int>(c));
        row_val_.push_back(xr[c]);
        ++col_start_[static_cast<std::size_t>(c) + 1];
      }
    }
    row_start_[static_cast<std::size_t>(r) + 1] = static_cast<int>(row_col_.size());
  }
  for (std::size_t c = 0; c < static_cast<std::size_t>(cols_); ++c) col_start_[c + 1] += col_start_[c];
  col_row_.resize(row_col_.size());
  col_val_.resize(row_val_.size());
  std::vector<int>& fill = scratch_;
  fill.assign(col_start_.begin(), col_start_.end() - 1);
  for (Eigen::Index r = 0; r < rows_; ++r) {
    for (int i = row_start_[static_cast<std::size_t>(r)]; i < row_start_[static_cast<std::size_t>(r) + 1]; ++i) {
      const auto slot =
          static_cast<std::size_t>(fill[static_cast<std::size_t>(row_col_[static_cast<std::size_t>(i)])]++);
      col_row_[slot] = static_cast<int>(r);
      col_val_[slot] = row_val_[static_cast<std::size_t>(i)];
    }
  }
}

void SparseRows::times(const ConstMatrixMap& a, const ConstMatrixMap& b, Matrix& out_a, Matrix& out_b) const {
  out_a.resize(rows_, a.cols());
  out_b.resize(rows_, b.cols());
#pragma omp parallel for schedule(static)
  for (Eigen::Index r = 0; r < rows_; ++r) {
    auto row_a = out_a.row(r);
    auto row_b = out_b.row(r);
    row_a.setZero();
    row_b.setZero();
    for (int i = row_start_[static_cast<std::size_t>(r)]; i < row_start_[static_cast<std::size_t>(r) + 1]; ++i) {
      const auto c = static_cast<Eigen::Index>(row_col_[static_cast<std::size_t>(i)]);
      const float v = row_val_[static_cast<std::size_t>(i)];
      row_a += v * a.row(c);
      row_b += v * b.row(c);
    }
  }
}

void SparseRows::transpose_times(const Matrix& g, const Matrix& h, MatrixMap out_a, MatrixMap out_b) const {
#pragma omp parallel for schedule(dynamic, 16)
  for (Eigen::Index c = 0; c < cols_; ++c) {
    auto row_a = out_a.row(c);
    auto row_b = out_b.row(c);
    row_a.setZero();
    row_b.setZero();
    for (int i = col_start_[static_cast<std::size_t>(c)]; i < col_start_[static_cast<std::size_t>(c) + 1]; ++i) {
      const auto r = static_cast<Eigen::Index>(col_row_[static_cast<std::size_t>(i)]);
      const float v = col_val_[static_cast<std::size_t>(i)];
      row_a += v * g.row(r);
      row_b += v * h.row(r);
    }
  }
}

}  // namespace rnn
