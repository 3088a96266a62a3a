#include "rnn/layers/rnl.hpp"

#include <cmath>

#include <fmt/format.h>

#include "rnn/core/error.hpp"
#include "rnn/core/gemm.hpp"
#include "rnn/core/sparse_rows.hpp"

namespace rnn {
namespace {

struct RnlState final : LayerState {
  Matrix z;      // x W⁻ (D = 1 + z)
  Matrix inv_d;  // 1 / D
  Matrix a;      // ∂L/∂N
  Matrix b;      // ∂L/∂D
  SparseRows sparse_x;
  bool sparse = false;  // whether the forward input took the sparse path
  Matrix block_plus;    // split_gradient's blocks of ∂L/∂W⁺ and ∂L/∂W⁻ (never read as a source)
  Matrix block_minus;
};

}  // namespace

RandomNeuralLayer::RandomNeuralLayer(int inputs, int outputs, RnlOptions options)
    : inputs_(inputs), outputs_(outputs), options_(options) {
  if (inputs <= 0 || outputs <= 0) throw Error("rnl layer needs positive sizes");
}

std::string RandomNeuralLayer::describe() const {
  return fmt::format("rnl {}->{}", inputs_, outputs_);
}

void RandomNeuralLayer::declare_parameters(ParameterLayout& layout, const std::string& prefix) {
  const auto out = static_cast<std::size_t>(outputs_);
  const auto in = static_cast<std::size_t>(inputs_);
  weights_offset_ = layout.segment(layout.add(prefix + ".w_plus", in, out, true)).offset;
  layout.add(prefix + ".w_minus", in, out, true);
}

void RandomNeuralLayer::initialise(std::span<float> params, Rng& rng) const {
  const float high =
      options_.init == RnlInit::keras_uniform ? 0.2F : options_.gain / std::sqrt(static_cast<float>(inputs_));
  const std::size_t n = 2 * static_cast<std::size_t>(inputs_) * static_cast<std::size_t>(outputs_);
  float* w = params.data() + weights_offset_;
  for (std::size_t i = 0; i < n; ++i) w[i] = rng.uniform(0.0F, high);
}

std::unique_ptr<LayerState> RandomNeuralLayer::create_state(std::uint64_t /*stream*/) const {
  return std::make_unique<RnlState>();
}

void RandomNeuralLayer::forward(std::span<const float> params, const Matrix& x, Matrix& y, LayerState* state,
                                bool /*training*/) const {
  auto& st = static_cast<RnlState&>(*state);
  const std::size_t tensor = static_cast<std::size_t>(inputs_) * static_cast<std::size_t>(outputs_);
  const ConstMatrixMap w_plus(params.data() + weights_offset_, inputs_, outputs_);
  const ConstMatrixMap w_minus(params.data() + weights_offset_ + tensor, inputs_, outputs_);
  const Eigen::Index batch = x.rows();
  // Hidden layers see dense inputs: decide from a cheap count before building the sparse copy.
  st.sparse = SparseRows::density(x) <= kSparseDensity;
  if (st.sparse) st.sparse_x.assign(x);
  // N = x W⁺ goes straight into y, which is then divided by D in place.
  if (st.sparse) {
    st.sparse_x.times(w_plus, w_minus, y, st.z);
  } else {
    y.resize(batch, outputs_);
    st.z.resize(batch, outputs_);
    gemm(1.0F, x, Op::none, w_plus, Op::none, 0.0F, y);
    gemm(1.0F, x, Op::none, w_minus, Op::none, 0.0F, st.z);
  }
  st.inv_d.resize(batch, outputs_);
  const Eigen::Index count = y.size();
  const float* z = st.z.data();
  float* inv_d = st.inv_d.data();
  float* out = y.data();
#pragma omp simd
  for (Eigen::Index i = 0; i < count; ++i) {
    inv_d[i] = 1.0F / std::max(kMinDenominator, 1.0F + z[i]);
    out[i] *= inv_d[i];
  }
}

void RandomNeuralLayer::backward_input(std::span<const float> params, const Matrix& x, const Matrix& y,
                                       const Matrix& dy, Matrix* dx, LayerState* state) const {
  auto& st = static_cast<RnlState&>(*state);
  const std::size_t tensor = static_cast<std::size_t>(inputs_) * static_cast<std::size_t>(outputs_);
  const Eigen::Index batch = x.rows();
  st.a.resize(batch, outputs_);
  st.b.resize(batch, outputs_);
  const Eigen::Index count = y.size();
  const float* z = st.z.data();
  const float* inv_d = st.inv_d.data();
  const float* out = y.data();
  const float* g = dy.data();
  float* a = st.a.data();
  float* b = st.b.data();
#pragma omp simd
  for (Eigen::Index i = 0; i < count; ++i) {
    a[i] = g[i] * inv_d[i];
    // Where D was clamped at ε it no longer depends on W⁻ or x.
    b[i] = (1.0F + z[i] > kMinDenominator) ? -a[i] * out[i] : 0.0F;
  }
  if (dx != nullptr) {
    const ConstMatrixMap w_plus(params.data() + weights_offset_, inputs_, outputs_);
    const ConstMatrixMap w_minus(params.data() + weights_offset_ + tensor, inputs_, outputs_);
    dx->resize(batch, inputs_);
    gemm(1.0F, st.a, Op::none, w_plus, Op::transpose, 0.0F, *dx);
    gemm(1.0F, st.b, Op::none, w_minus, Op::transpose, 1.0F, *dx);
  }
}

void RandomNeuralLayer::backward(std::span<const float> params, const Matrix& x, const Matrix& y, const Matrix& dy,
                                 Matrix* dx, std::span<float> grad, LayerState* state) const {
  backward_input(params, x, y, dy, dx, state);
  auto& st = static_cast<RnlState&>(*state);
  const std::size_t tensor = static_cast<std::size_t>(inputs_) * static_cast<std::size_t>(outputs_);
  MatrixMap g_plus(grad.data() + weights_offset_, inputs_, outputs_);
  MatrixMap g_minus(grad.data() + weights_offset_ + tensor, inputs_, outputs_);
  if (st.sparse) {
    st.sparse_x.transpose_times(st.a, st.b, g_plus, g_minus);
  } else {
    gemm(1.0F, x, Op::transpose, st.a, Op::none, 0.0F, g_plus);
    gemm(1.0F, x, Op::transpose, st.b, Op::none, 0.0F, g_minus);
  }
}

void RandomNeuralLayer::split_gradient(std::span<const GradientSource> sources, std::size_t part, std::size_t parts,
                                       LayerState* scratch, GradientBlockSink& sink) const {
  auto& st = static_cast<RnlState&>(*scratch);
  const auto in = static_cast<std::size_t>(inputs_);
  const auto out = static_cast<std::size_t>(outputs_);
  const std::size_t tensor = in * out;
  // This part's rows of W⁺ and the same rows of W⁻: one pass over a source's non-zeros gives both.
  const Share share = share_of(in, part, parts);
  const auto first = static_cast<Eigen::Index>(share.first);
  const auto last = static_cast<Eigen::Index>(share.last);
  const Eigen::Index block_rows = std::max<Eigen::Index>(2, kSplitGradientBlock / outputs_);
  st.block_plus.resize(block_rows, outputs_);
  st.block_minus.resize(block_rows, outputs_);
  for (Eigen::Index r = first; r < last; r += block_rows) {
    const Eigen::Index rows = std::min(block_rows, last - r);
    MatrixMap plus(st.block_plus.data(), rows, outputs_);
    MatrixMap minus(st.block_minus.data(), rows, outputs_);
    if (sources.empty()) {
      plus.setZero();
      minus.setZero();
    }
    for (std::size_t s = 0; s < sources.size(); ++s) {
      const GradientSource& source = sources[s];
      const auto& from = static_cast<const RnlState&>(*source.state);
      const bool accumulate = s > 0;
      if (from.sparse) {
        from.sparse_x.transpose_times_rows(from.a, from.b, r, r + rows, source.weight, accumulate, plus, minus);
      } else {
        const auto x_rows = source.x->middleCols(r, rows);
        const float beta = accumulate ? 1.0F : 0.0F;
        gemm(source.weight, x_rows, Op::transpose, from.a, Op::none, beta, plus);
        gemm(source.weight, x_rows, Op::transpose, from.b, Op::none, beta, minus);
      }
    }
    const std::size_t begin = weights_offset_ + static_cast<std::size_t>(r) * out;
    const std::size_t end = begin + static_cast<std::size_t>(rows) * out;
    sink(begin, end, plus.data());
    sink(begin + tensor, end + tensor, minus.data());
  }
}

void RandomNeuralLayer::split_ranges(std::size_t part, std::size_t parts,
                                     const std::function<void(std::size_t, std::size_t)>& range) const {
  // The same rows as split_gradient's part: share_of(inputs) rows of W⁺, and of W⁻.
  const auto out = static_cast<std::size_t>(outputs_);
  const std::size_t tensor = static_cast<std::size_t>(inputs_) * out;
  const Share rows = share_of(static_cast<std::size_t>(inputs_), part, parts);
  const std::size_t begin = weights_offset_ + rows.first * out;
  const std::size_t end = weights_offset_ + rows.last * out;
  range(begin, end);
  range(begin + tensor, end + tensor);
}

}  // namespace rnn
