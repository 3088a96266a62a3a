#include "rnn/gelenbe/dense_nuclei.hpp"

#include <fmt/format.h>

#include <cmath>

#include "rnn/core/error.hpp"
#include "rnn/core/gemm.hpp"

namespace rnn {
namespace {

struct NucleiState final : LayerState {
  Matrix slope;  // dy/dz from forward
  Matrix dz;     // g ∘ dy/dz in backward (a separate buffer keeps backward repeatable)
};

}  // namespace

NucleusResponse nucleus_response(float z, const DenseNucleiOptions& o) {
  const double n = o.cells;
  const double coupling = o.p * (n - 1.0);
  const double inhibition = o.inhibitory + std::max(0.0F, z);
  const double a = coupling * inhibition;
  const double b = -((o.excitatory + o.rate) * coupling + n * inhibition + o.rate);
  const double c = n * o.excitatory;
  // The discriminant is positive for valid options; max() only guards against rounding.
  const double root = std::sqrt(std::max(0.0, b * b - 4.0 * a * c));
  const double q = 2.0 * c / (-b + root);
  // With λ⁻ < λ⁺ the root can exceed 1 at small z: the cluster saturates, q is clamped at 1 and
  // passes no gradient, as for any saturated random neuron.
  if (q >= 1.0) return {1.0F, 0.0F};
  const double slope = z < 0.0F ? 0.0 : (coupling * q * q - n * q) / root;
  return {static_cast<float>(q), static_cast<float>(slope)};
}

DenseNuclei::DenseNuclei(int inputs, int outputs, DenseNucleiOptions options)
    : inputs_(inputs), outputs_(outputs), options_(options) {
  if (inputs <= 0 || outputs <= 0) throw Error("nuclei layer needs positive sizes");
  if (!(options_.cells > 1.0F && options_.p > 0.0F && options_.p <= 1.0F && options_.rate > 0.0F &&
        options_.excitatory > 0.0F && options_.inhibitory >= 0.0F))
    throw Error("nuclei layer: needs n > 1, 0 < p ≤ 1, r > 0, λ⁺ > 0, λ⁻ ≥ 0");
}

std::string DenseNuclei::describe() const {
  return fmt::format("nuclei {}->{}", inputs_, outputs_);
}

void DenseNuclei::declare_parameters(ParameterLayout& layout, const std::string& prefix) {
  weights_offset_ = layout
                        .segment(layout.add(prefix + ".weight", static_cast<std::size_t>(inputs_),
                                            static_cast<std::size_t>(outputs_), true))
                        .offset;
}

void DenseNuclei::initialise(std::span<float> params, Rng& rng) const {
  const float high = options_.init_high > 0.0F ? options_.init_high : 0.2F / static_cast<float>(inputs_);
  const std::size_t n = static_cast<std::size_t>(inputs_) * static_cast<std::size_t>(outputs_);
  for (std::size_t i = 0; i < n; ++i) params[weights_offset_ + i] = rng.uniform(0.0F, high);
}

std::unique_ptr<LayerState> DenseNuclei::create_state(std::uint64_t /*stream*/) const {
  return std::make_unique<NucleiState>();
}

void DenseNuclei::forward(std::span<const float> params, const Matrix& x, Matrix& y, LayerState* state,
                          bool /*training*/) const {
  auto& st = static_cast<NucleiState&>(*state);
  const ConstMatrixMap w(params.data() + weights_offset_, inputs_, outputs_);
  y.resize(x.rows(), outputs_);
  gemm(1.0F, x, Op::none, w, Op::none, 0.0F, y);  // z, replaced by q in place
  st.slope.resize(x.rows(), outputs_);
  for (Eigen::Index i = 0; i < y.size(); ++i) {
    const NucleusResponse r = nucleus_response(y.data()[i], options_);
    y.data()[i] = r.q;
    st.slope.data()[i] = r.slope;
  }
}

void DenseNuclei::backward(std::span<const float> params, const Matrix& x, const Matrix& /*y*/, const Matrix& dy,
                           Matrix* dx, std::span<float> grad, LayerState* state) const {
  auto& st = static_cast<NucleiState&>(*state);
  st.dz.resize(dy.rows(), dy.cols());
  st.dz.array() = st.slope.array() * dy.array();  // ∂L/∂z
  MatrixMap g(grad.data() + weights_offset_, inputs_, outputs_);
  gemm(1.0F, x, Op::transpose, st.dz, Op::none, 0.0F, g);
  if (dx != nullptr) {
    const ConstMatrixMap w(params.data() + weights_offset_, inputs_, outputs_);
    dx->resize(x.rows(), inputs_);
    gemm(1.0F, st.dz, Op::none, w, Op::transpose, 0.0F, *dx);
  }
}

}  // namespace rnn
