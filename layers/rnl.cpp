#include "rnn/layers/rnl.hpp"

#include <cmath>

#include <fmt/format.h>

#include "rnn/core/error.hpp"

namespace rnn {
namespace {

struct RnlState final : LayerState {
  Matrix z;      // [x W⁺ᵀ | x W⁻ᵀ], batch x 2·out
  Matrix inv_d;  // 1 / D, batch x out
  Matrix ab;     // [∂L/∂N | ∂L/∂D], batch x 2·out
};

}  // namespace

RandomNeuralLayer::RandomNeuralLayer(int inputs, int outputs, RnlOptions options)
    : inputs_(inputs), outputs_(outputs), options_(options) {
  if (inputs <= 0 || outputs <= 0) throw Error("rnl layer needs positive sizes");
}

std::string RandomNeuralLayer::describe() const { return fmt::format("rnl {}->{}", inputs_, outputs_); }

void RandomNeuralLayer::declare_parameters(ParameterLayout& layout, const std::string& prefix) {
  const auto out = static_cast<std::size_t>(outputs_);
  const auto in = static_cast<std::size_t>(inputs_);
  weights_offset_ = layout.segment(layout.add(prefix + ".w_plus", out, in, true)).offset;
  layout.add(prefix + ".w_minus", out, in, true);
}

void RandomNeuralLayer::initialise(std::span<float> params, Rng& rng) const {
  const float high = options_.init == RnlInit::keras_uniform
                         ? 0.2F
                         : options_.gain / std::sqrt(static_cast<float>(inputs_));
  const std::size_t n = 2 * static_cast<std::size_t>(inputs_) * static_cast<std::size_t>(outputs_);
  float* w = params.data() + weights_offset_;
  for (std::size_t i = 0; i < n; ++i) w[i] = rng.uniform(0.0F, high);
}

std::unique_ptr<LayerState> RandomNeuralLayer::make_state() const { return std::make_unique<RnlState>(); }

void RandomNeuralLayer::forward(std::span<const float> params, const Matrix& x, Matrix& y, LayerState* state,
                                bool /*training*/) const {
  auto& st = static_cast<RnlState&>(*state);
  const ConstMatrixMap w(params.data() + weights_offset_, 2 * outputs_, inputs_);
  const Eigen::Index batch = x.rows();
  st.z.resize(batch, 2 * outputs_);
  st.z.noalias() = x * w.transpose();
  st.inv_d.resize(batch, outputs_);
  y.resize(batch, outputs_);
  for (Eigen::Index i = 0; i < batch; ++i) {
    const float* zi = st.z.row(i).data();
    float* inv_d = st.inv_d.row(i).data();
    float* yi = y.row(i).data();
#pragma omp simd
    for (int j = 0; j < outputs_; ++j) {
      const float d = std::max(kMinDenominator, 1.0F + zi[outputs_ + j]);
      inv_d[j] = 1.0F / d;
      yi[j] = zi[j] * inv_d[j];
    }
  }
}

void RandomNeuralLayer::backward(std::span<const float> params, const Matrix& x, const Matrix& y, const Matrix& dy,
                                 Matrix* dx, std::span<float> grad, LayerState* state) const {
  auto& st = static_cast<RnlState&>(*state);
  const ConstMatrixMap w(params.data() + weights_offset_, 2 * outputs_, inputs_);
  const Eigen::Index batch = x.rows();
  st.ab.resize(batch, 2 * outputs_);
  for (Eigen::Index i = 0; i < batch; ++i) {
    const float* zi = st.z.row(i).data();
    const float* inv_d = st.inv_d.row(i).data();
    const float* yi = y.row(i).data();
    const float* gi = dy.row(i).data();
    float* abi = st.ab.row(i).data();
#pragma omp simd
    for (int j = 0; j < outputs_; ++j) {
      const float a = gi[j] * inv_d[j];
      abi[j] = a;
      // Where D was clamped at ε it no longer depends on W⁻ or x.
      abi[outputs_ + j] = (1.0F + zi[outputs_ + j] > kMinDenominator) ? -a * yi[j] : 0.0F;
    }
  }
  MatrixMap gw(grad.data() + weights_offset_, 2 * outputs_, inputs_);
  gw.noalias() = st.ab.transpose() * x;
  if (dx != nullptr) {
    dx->resize(batch, inputs_);
    dx->noalias() = st.ab * w;
  }
}

}  // namespace rnn
