#include "rnn/layers/dense.hpp"

#include <fmt/format.h>

#include "rnn/core/error.hpp"
#include "rnn/core/gemm.hpp"

namespace rnn {
namespace {

struct DenseState final : LayerState {
  Matrix dy;     // ∂L/∂y kept by backward_input for split_gradient (the model reuses its own buffer)
  Matrix block;  // split_gradient's block of ∂L/∂W, and its part of ∂L/∂b (never read as a source)
  RowVector bias;
};

}  // namespace

Dense::Dense(int inputs, int outputs, AffineInit init) : inputs_(inputs), outputs_(outputs), init_(init) {
  if (inputs <= 0 || outputs <= 0) throw Error("dense layer needs positive sizes");
}

std::string Dense::describe() const {
  return fmt::format("dense {}->{}", inputs_, outputs_);
}

void Dense::declare_parameters(ParameterLayout& layout, const std::string& prefix) {
  const auto out = static_cast<std::size_t>(outputs_);
  weight_offset_ = layout.segment(layout.add(prefix + ".weight", out, static_cast<std::size_t>(inputs_), false)).offset;
  bias_offset_ = layout.segment(layout.add(prefix + ".bias", 1, out, false)).offset;
}

void Dense::initialise(std::span<float> params, Rng& rng) const {
  const auto n = static_cast<std::size_t>(inputs_) * static_cast<std::size_t>(outputs_);
  fill_weights(params.subspan(weight_offset_, n), inputs_, outputs_, init_, rng);
  std::fill_n(params.data() + bias_offset_, outputs_, init_.bias);
}

std::unique_ptr<LayerState> Dense::create_state(std::uint64_t /*stream*/) const {
  return std::make_unique<DenseState>();
}

void Dense::forward(std::span<const float> params, const Matrix& x, Matrix& y, LayerState* /*state*/,
                    bool /*training*/) const {
  const ConstMatrixMap w(params.data() + weight_offset_, outputs_, inputs_);
  const Eigen::Map<const RowVector> b(params.data() + bias_offset_, outputs_);
  y.resize(x.rows(), outputs_);
  gemm(1.0F, x, Op::none, w, Op::transpose, 0.0F, y);
  y.rowwise() += b;
}

void Dense::backward(std::span<const float> params, const Matrix& x, const Matrix& /*y*/, const Matrix& dy, Matrix* dx,
                     std::span<float> grad, LayerState* /*state*/) const {
  MatrixMap gw(grad.data() + weight_offset_, outputs_, inputs_);
  gemm(1.0F, dy, Op::transpose, x, Op::none, 0.0F, gw);
  column_sums(dy, grad.data() + bias_offset_);
  input_gradient(params, x, dy, dx);
}

void Dense::input_gradient(std::span<const float> params, const Matrix& x, const Matrix& dy, Matrix* dx) const {
  if (dx == nullptr) return;
  const ConstMatrixMap w(params.data() + weight_offset_, outputs_, inputs_);
  dx->resize(x.rows(), inputs_);
  gemm(1.0F, dy, Op::none, w, Op::none, 0.0F, *dx);
}

void Dense::backward_input(std::span<const float> params, const Matrix& x, const Matrix& /*y*/, const Matrix& dy,
                           Matrix* dx, LayerState* state) const {
  static_cast<DenseState&>(*state).dy = dy;
  input_gradient(params, x, dy, dx);
}

void Dense::split_gradient(std::span<const GradientSource> sources, std::size_t part, std::size_t parts,
                           LayerState* scratch, GradientBlockSink& sink) const {
  auto& st = static_cast<DenseState&>(*scratch);
  const auto in = static_cast<std::size_t>(inputs_);
  // This part's outputs: their rows of W, block by block, and their entries of b, in one piece.
  const Share units = share_of(static_cast<std::size_t>(outputs_), part, parts);
  const auto first = static_cast<Eigen::Index>(units.first);
  const auto last = static_cast<Eigen::Index>(units.last);
  const Eigen::Index block_rows = std::max<Eigen::Index>(1, kSplitGradientBlock / inputs_);
  st.block.resize(block_rows, inputs_);
  st.bias.resize(outputs_);
  for (Eigen::Index o = first; o < last; o += block_rows) {
    const Eigen::Index rows = std::min(block_rows, last - o);
    MatrixMap weights(st.block.data(), rows, inputs_);
    if (sources.empty()) weights.setZero();
    for (std::size_t s = 0; s < sources.size(); ++s) {
      const GradientSource& source = sources[s];
      const Matrix& dy = static_cast<const DenseState&>(*source.state).dy;
      gemm(source.weight, dy.middleCols(o, rows), Op::transpose, *source.x, Op::none, s > 0 ? 1.0F : 0.0F, weights);
    }
    const std::size_t begin = weight_offset_ + static_cast<std::size_t>(o) * in;
    sink(begin, begin + static_cast<std::size_t>(rows) * in, weights.data());
  }
  auto bias = st.bias.head(last - first);
  bias.setZero();
  for (const GradientSource& source : sources) {
    const auto dy = static_cast<const DenseState&>(*source.state).dy.middleCols(first, last - first);
    for (Eigen::Index r = 0; r < dy.rows(); ++r) bias += source.weight * dy.row(r);
  }
  const std::size_t bias_begin = bias_offset_ + static_cast<std::size_t>(first);
  sink(bias_begin, bias_begin + static_cast<std::size_t>(last - first), bias.data());
}

void Dense::split_ranges(std::size_t part, std::size_t parts,
                         const std::function<void(std::size_t, std::size_t)>& range) const {
  // The same output units as split_gradient's part: their rows of W and entries of b.
  const Share units = share_of(static_cast<std::size_t>(outputs_), part, parts);
  const auto in = static_cast<std::size_t>(inputs_);
  range(weight_offset_ + units.first * in, weight_offset_ + units.last * in);
  range(bias_offset_ + units.first, bias_offset_ + units.last);
}

}  // namespace rnn
