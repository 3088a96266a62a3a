#include "rnn/core/sparse_rows.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

#include "rnn/core/error.hpp"

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

namespace {

// One vector register of floats, and how many of them each of the two products keeps as sums:
// 2 x 8 of the 32 AVX-512 registers, 2 x 4 of the 16 AVX ones (more would spill).
#if defined(__AVX512F__)
constexpr Eigen::Index kLanes = 16;
constexpr int kBlockVectors = 8;
#elif defined(__AVX__)
constexpr Eigen::Index kLanes = 8;
constexpr int kBlockVectors = 4;
#else
constexpr Eigen::Index kLanes = 4;
constexpr int kBlockVectors = 4;
#endif
using Lanes = float __attribute__((vector_size(kLanes * sizeof(float))));
constexpr Eigen::Index kBlock = kLanes * kBlockVectors;  // outputs per pass over the non-zeros

[[gnu::always_inline]] inline Lanes load(const float* p) {
  Lanes v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

[[gnu::always_inline]] inline void store(float* p, const Lanes& v) {
  std::memcpy(p, &v, sizeof v);
}

// How a kernel writes a finished sum: out = weight · sum, or out += weight · sum (a gradient summed
// over several data-parallel shards, block by block).
struct Put {
  float weight = 1.0F;
  bool accumulate = false;
};

[[gnu::always_inline]] inline void put(float* p, const Lanes& sum, const Put& how) {
  store(p, how.accumulate ? load(p) + how.weight * sum : how.weight * sum);
}

// out_a[0, kVectors·kLanes) = Σ_i value_i · a[index_i·stride + ...] and the same for b, with the
// sums in registers: each output is written once.
template <int kVectors>
void accumulate_rows(const int* index, const float* value, int count, const float* a, const float* b,
                     Eigen::Index stride, float* out_a, float* out_b, const Put& how) {
  Lanes sum_a[kVectors] = {};
  Lanes sum_b[kVectors] = {};
  for (int i = 0; i < count; ++i) {
    const float* ra = a + static_cast<Eigen::Index>(index[i]) * stride;
    const float* rb = b + static_cast<Eigen::Index>(index[i]) * stride;
    const float v = value[i];
#pragma GCC unroll 8
    for (int k = 0; k < kVectors; ++k) {
      sum_a[k] += v * load(ra + k * kLanes);
      sum_b[k] += v * load(rb + k * kLanes);
    }
  }
#pragma GCC unroll 8
  for (int k = 0; k < kVectors; ++k) {
    put(out_a + k * kLanes, sum_a[k], how);
    put(out_b + k * kLanes, sum_b[k], how);
  }
}

// The same for widths below kLanes, one pass over the non-zeros for all of them.
void accumulate_rows_scalar(const int* index, const float* value, int count, const float* a, const float* b,
                            Eigen::Index stride, Eigen::Index width, float* out_a, float* out_b, const Put& how) {
  float sum_a[kLanes] = {};
  float sum_b[kLanes] = {};
  for (int i = 0; i < count; ++i) {
    const float* ra = a + static_cast<Eigen::Index>(index[i]) * stride;
    const float* rb = b + static_cast<Eigen::Index>(index[i]) * stride;
    for (Eigen::Index j = 0; j < width; ++j) {
      sum_a[j] += value[i] * ra[j];
      sum_b[j] += value[i] * rb[j];
    }
  }
  for (Eigen::Index j = 0; j < width; ++j) {
    out_a[j] = how.accumulate ? out_a[j] + how.weight * sum_a[j] : how.weight * sum_a[j];
    out_b[j] = how.accumulate ? out_b[j] + how.weight * sum_b[j] : how.weight * sum_b[j];
  }
}

// Widths below kBlock: the whole vectors in one pass, then the scalar remainder in another.
template <int kVectors = kBlockVectors - 1>
void accumulate_rows_tail(const int* index, const float* value, int count, const float* a, const float* b,
                          Eigen::Index stride, Eigen::Index width, float* out_a, float* out_b, const Put& how) {
  if constexpr (kVectors > 0) {
    if (width / kLanes < kVectors) {
      accumulate_rows_tail<kVectors - 1>(index, value, count, a, b, stride, width, out_a, out_b, how);
      return;
    }
    accumulate_rows<kVectors>(index, value, count, a, b, stride, out_a, out_b, how);
  }
  const Eigen::Index done = kVectors * kLanes;
  if (done < width) {
    accumulate_rows_scalar(index, value, count, a + done, b + done, stride, width - done, out_a + done, out_b + done,
                           how);
  }
}

using SparseList = SparseRows::Entries;

// Half the register block for each of two lists walked together in index order: an operand row
// that both lists use is loaded once for both.
constexpr int kPairVectors = kBlockVectors / 2;
constexpr Eigen::Index kPairBlock = kLanes * kPairVectors;

void accumulate_pair(const SparseList& first, const SparseList& second, const float* a, const float* b,
                     Eigen::Index stride, float* out_a1, float* out_b1, float* out_a2, float* out_b2, const Put& how) {
  Lanes sum_a1[kPairVectors] = {};
  Lanes sum_b1[kPairVectors] = {};
  Lanes sum_a2[kPairVectors] = {};
  Lanes sum_b2[kPairVectors] = {};
  constexpr int kEnd = std::numeric_limits<int>::max();
  int i = 0;
  int k = 0;
  while (i < first.count || k < second.count) {
    const int c1 = i < first.count ? first.index[i] : kEnd;
    const int c2 = k < second.count ? second.index[k] : kEnd;
    const int c = std::min(c1, c2);
    const float* ra = a + static_cast<Eigen::Index>(c) * stride;
    const float* rb = b + static_cast<Eigen::Index>(c) * stride;
    Lanes row_a[kPairVectors];
    Lanes row_b[kPairVectors];
#pragma GCC unroll 8
    for (int v = 0; v < kPairVectors; ++v) {
      row_a[v] = load(ra + v * kLanes);
      row_b[v] = load(rb + v * kLanes);
    }
    if (c1 == c) {
      const float x = first.value[i++];
#pragma GCC unroll 8
      for (int v = 0; v < kPairVectors; ++v) {
        sum_a1[v] += x * row_a[v];
        sum_b1[v] += x * row_b[v];
      }
    }
    if (c2 == c) {
      const float x = second.value[k++];
#pragma GCC unroll 8
      for (int v = 0; v < kPairVectors; ++v) {
        sum_a2[v] += x * row_a[v];
        sum_b2[v] += x * row_b[v];
      }
    }
  }
#pragma GCC unroll 8
  for (int v = 0; v < kPairVectors; ++v) {
    put(out_a1 + v * kLanes, sum_a1[v], how);
    put(out_b1 + v * kLanes, sum_b1[v], how);
    put(out_a2 + v * kLanes, sum_a2[v], how);
    put(out_b2 + v * kLanes, sum_b2[v], how);
  }
}

// Row i − first of out_a / out_b (`width` apart) = Σ over list_of(i) of value · operand row, for
// the lists i in [first, last): X A (lists = rows of X) and Xᵀ G (lists = columns of X). Lists go in
// pairs, with column blocks as the outer loop: the block of the operands every list reads
// (kPairBlock floats per operand row) then stays in L2 instead of streaming from L3 for every pair,
// which matters for X A (A, B: cols x width, megabytes). The columns past the last whole block go
// list by list, and so does an odd last list. `kShared`: the loops are work-shared by the OpenMP
// team that calls (all of its threads must); otherwise the calling thread does all of it. (Two
// copies of the loops, because an `omp for` that only one thread of a team reaches never ends.)
template <bool kShared, typename ListOf>
void paired_products(Eigen::Index first, Eigen::Index last, const ListOf& list_of, const float* a, const float* b,
                     Eigen::Index width, float* out_a, float* out_b, const Put& how) {
  const Eigen::Index pairs = (last - first) / 2;
  const Eigen::Index blocked = width / kPairBlock * kPairBlock;
  const auto row = [width, first](float* out, Eigen::Index i) { return out + (i - first) * width; };
  const auto pair = [&](Eigen::Index p, Eigen::Index j) {
    const Eigen::Index i = first + 2 * p;
    accumulate_pair(list_of(i), list_of(i + 1), a + j, b + j, width, row(out_a, i) + j, row(out_b, i) + j,
                    row(out_a, i + 1) + j, row(out_b, i + 1) + j, how);
  };
  const auto tail = [&](Eigen::Index i) {
    const SparseList list = list_of(i);
    accumulate_rows_tail(list.index, list.value, list.count, a + blocked, b + blocked, width, width - blocked,
                         row(out_a, i) + blocked, row(out_b, i) + blocked, how);
  };
  const auto odd_last = [&] {
    const SparseList list = list_of(last - 1);
    float* list_a = row(out_a, last - 1);
    float* list_b = row(out_b, last - 1);
    Eigen::Index j = 0;
    for (; j + kBlock <= width; j += kBlock) {
      accumulate_rows<kBlockVectors>(list.index, list.value, list.count, a + j, b + j, width, list_a + j, list_b + j,
                                     how);
    }
    if (j < width) {
      accumulate_rows_tail(list.index, list.value, list.count, a + j, b + j, width, width - j, list_a + j, list_b + j,
                           how);
    }
  };
  const bool odd = (last - first) % 2 != 0;
  if constexpr (kShared) {
    for (Eigen::Index j = 0; j < blocked; j += kPairBlock) {
#pragma omp for schedule(dynamic, 8) nowait
      for (Eigen::Index p = 0; p < pairs; ++p) pair(p, j);
    }
    if (blocked < width) {
#pragma omp for schedule(dynamic, 8) nowait
      for (Eigen::Index i = first; i < first + 2 * pairs; ++i) tail(i);
    }
#pragma omp single nowait
    if (odd) odd_last();
  } else {
    for (Eigen::Index j = 0; j < blocked; j += kPairBlock) {
      for (Eigen::Index p = 0; p < pairs; ++p) pair(p, j);
    }
    if (blocked < width) {
      for (Eigen::Index i = first; i < first + 2 * pairs; ++i) tail(i);
    }
    if (odd) odd_last();
  }
}

}  // namespace

SparseRows::Entries SparseRows::row_entries(Eigen::Index r) const {
  const auto begin = static_cast<std::size_t>(row_start_[static_cast<std::size_t>(r)]);
  return {row_col_.data() + begin, row_val_.data() + begin,
          row_start_[static_cast<std::size_t>(r) + 1] - row_start_[static_cast<std::size_t>(r)]};
}

SparseRows::Entries SparseRows::column_entries(Eigen::Index c) const {
  const auto begin = static_cast<std::size_t>(col_start_[static_cast<std::size_t>(c)]);
  return {col_row_.data() + begin, col_val_.data() + begin,
          col_start_[static_cast<std::size_t>(c) + 1] - col_start_[static_cast<std::size_t>(c)]};
}

void SparseRows::times(const ConstMatrixMap& a, const ConstMatrixMap& b, Matrix& out_a, Matrix& out_b) const {
  if (a.rows() != cols_ || b.rows() != cols_ || a.cols() != b.cols()) {
    throw Error("SparseRows::times: operand shapes do not match the sparse matrix");
  }
  const Eigen::Index width = a.cols();
  out_a.resize(rows_, width);
  out_b.resize(rows_, width);
  // Measured on 64 MNIST rows, 784 -> 2 x 512, one thread: 560 us accumulating whole output rows
  // in memory, 395 us one row at a time with the sums in registers, 327 us in pairs.
  const auto rows = [this](Eigen::Index r) { return row_entries(r); };
#pragma omp parallel
  paired_products<true>(0, rows_, rows, a.data(), b.data(), width, out_a.data(), out_b.data(), Put{});
}

void SparseRows::transpose_times(const Matrix& g, const Matrix& h, MatrixMap out_a, MatrixMap out_b) const {
  if (g.rows() != rows_ || h.rows() != rows_ || g.cols() != h.cols() || out_a.rows() != cols_ ||
      out_b.rows() != cols_ || out_a.cols() != g.cols() || out_b.cols() != g.cols()) {
    throw Error("SparseRows::transpose_times: operand shapes do not match the sparse matrix");
  }
  const Eigen::Index width = g.cols();
  // Every row of the result is written exactly once (zeros for empty columns), so no clearing
  // pass. Neighbouring columns of X share most of their non-zeros (strokes), so pairing them saves
  // loads: 540 us accumulating in memory, 385 us one column at a time, 300 us paired (64 MNIST
  // rows, one thread).
  const auto columns = [this](Eigen::Index c) { return column_entries(c); };
#pragma omp parallel
  paired_products<true>(0, cols_, columns, g.data(), h.data(), width, out_a.data(), out_b.data(), Put{});
}

void SparseRows::transpose_times_rows(const Matrix& g, const Matrix& h, Eigen::Index first, Eigen::Index last,
                                      float weight, bool accumulate, MatrixMap out_a, MatrixMap out_b) const {
  if (g.rows() != rows_ || h.rows() != rows_ || g.cols() != h.cols() || first < 0 || last < first || last > cols_ ||
      out_a.rows() != last - first || out_b.rows() != last - first || out_a.cols() != g.cols() ||
      out_b.cols() != g.cols()) {
    throw Error("SparseRows::transpose_times_rows: operand shapes do not match the sparse matrix");
  }
  const auto columns = [this](Eigen::Index c) { return column_entries(c); };
  paired_products<false>(first, last, columns, g.data(), h.data(), g.cols(), out_a.data(), out_b.data(),
                         Put{weight, accumulate});
}

}  // namespace rnn
