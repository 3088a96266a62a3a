#include "rnn/layers/dense.hpp"

#include <fmt/format.h>

#include "rnn/core/error.hpp"
#include "rnn/core/gemm.hpp"

namespace rnn {

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
  if (dx != nullptr) {
    const ConstMatrixMap w(params.data() + weight_offset_, outputs_, inputs_);
    dx->resize(x.rows(), inputs_);
    gemm(1.0F, dy, Op::none, w, Op::none, 0.0F, *dx);
  }
}

}  // namespace rnn
