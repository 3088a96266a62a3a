#include "rnn/gelenbe/feedforward.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>

#include "rnn/core/error.hpp"
#include "rnn/core/gemm.hpp"

namespace rnn {
namespace {

// Every buffer is per neuron layer, so each keeps its shape from call to call (no reallocation
// once the batch size is steady).
struct FeedforwardState final : LayerState {
  std::vector<Matrix> q;      // q[0 … L]; q[L] is also the output
  std::vector<Matrix> inv_d;  // 1 / D
  std::vector<RowVector> rates;
  std::vector<Matrix> delta;  // ∂E/∂q
  std::vector<Matrix> a;      // ∂E/∂N
  std::vector<Matrix> b;      // ∂E/∂D
  std::vector<RowVector> rate_grad;
};

}  // namespace

GelenbeFeedforward::GelenbeFeedforward(std::vector<int> sizes, GelenbeFeedforwardOptions options)
    : sizes_(std::move(sizes)), options_(options) {
  if (sizes_.size() < 2) throw Error("gelenbe_ff needs at least an input and an output layer");
  for (const int n : sizes_)
    if (n <= 0) throw Error("gelenbe_ff layer sizes must be positive");
  if (!(options_.output_rate > 0.0F) || !std::isfinite(options_.output_rate))
    throw Error("gelenbe_ff output rate must be positive and finite");
  if (!(options_.init_gain > 0.0F) || !std::isfinite(options_.init_gain))
    throw Error("gelenbe_ff init gain must be positive and finite");
  if (!(options_.output_inhibition > 0.0F) || !std::isfinite(options_.output_inhibition))
    throw Error("gelenbe_ff output inhibition ratio must be positive and finite");
}

std::string GelenbeFeedforward::describe() const {
  return fmt::format("gelenbe_ff {}", fmt::join(sizes_, "-"));
}

void GelenbeFeedforward::declare_parameters(ParameterLayout& layout, const std::string& prefix) {
  offsets_.clear();
  for (std::size_t l = 0; l < layers(); ++l) {
    const auto in = static_cast<std::size_t>(sizes_[l]);
    const auto out = static_cast<std::size_t>(sizes_[l + 1]);
    offsets_.push_back(layout.segment(layout.add(fmt::format("{}.l{}.w_plus", prefix, l), in, out, true)).offset);
    layout.add(fmt::format("{}.l{}.w_minus", prefix, l), in, out, true);
  }
}

void GelenbeFeedforward::initialise(std::span<float> params, Rng& rng) const {
  for (std::size_t l = 0; l < layers(); ++l) {
    // W⁺ and W⁻ split the mean 2·gain/n_{l+1} of a weight pair 1 : κ, so each firing rate (the
    // sum of a row of both) starts near gain whatever κ is; κ ≠ 1 only for the output layer.
    const float pair_high = 2.0F * options_.init_gain / static_cast<float>(sizes_[l + 1]);
    const float kappa = l + 1 == layers() ? options_.output_inhibition : 1.0F;
    const float high_plus = pair_high / (1.0F + kappa);
    const float high_minus = pair_high * kappa / (1.0F + kappa);
    const std::size_t n = static_cast<std::size_t>(sizes_[l]) * static_cast<std::size_t>(sizes_[l + 1]);
    for (std::size_t i = 0; i < n; ++i) params[offsets_[l] + i] = rng.uniform(0.0F, high_plus);
    for (std::size_t i = 0; i < n; ++i) params[offsets_[l] + n + i] = rng.uniform(0.0F, high_minus);
  }
}

ConstMatrixMap GelenbeFeedforward::weights(std::span<const float> params, std::size_t l, bool plus) const {
  const std::size_t tensor = static_cast<std::size_t>(sizes_[l]) * static_cast<std::size_t>(sizes_[l + 1]);
  return {params.data() + offsets_[l] + (plus ? 0 : tensor), sizes_[l], sizes_[l + 1]};
}

std::unique_ptr<LayerState> GelenbeFeedforward::create_state(std::uint64_t /*stream*/) const {
  auto st = std::make_unique<FeedforwardState>();
  st->q.resize(sizes_.size());
  st->inv_d.resize(sizes_.size());
  st->rates.resize(sizes_.size());
  st->delta.resize(sizes_.size());
  st->a.resize(sizes_.size());
  st->b.resize(sizes_.size());
  st->rate_grad.resize(sizes_.size());
  return st;
}

void GelenbeFeedforward::forward(std::span<const float> params, const Matrix& x, Matrix& y, LayerState* state,
                                 bool /*training*/) const {
  auto& st = static_cast<FeedforwardState&>(*state);
  const Eigen::Index batch = x.rows();
  for (std::size_t l = 0; l < layers(); ++l) {
    const auto wp = weights(params, l, true);
    const auto wm = weights(params, l, false);
    st.rates[l].resize(sizes_[l]);
    // r_j = Σ_k (w⁺_jk + w⁻_jk), summed in a fixed order: the same weights anywhere in memory (a
    // worker's copy, a checkpoint) must give the same bits.
    for (Eigen::Index j = 0; j < wp.rows(); ++j) {
      st.rates[l][j] = fixed_order_sum(wp.row(j).data(), wp.cols()) + fixed_order_sum(wm.row(j).data(), wm.cols());
    }
  }
  st.rates[layers()] = RowVector::Constant(sizes_.back(), options_.output_rate);

  // Input layer: positive inputs are excitatory arrivals, negative ones inhibitory.
  st.q[0].resize(batch, sizes_[0]);
  st.inv_d[0].resize(batch, sizes_[0]);
  for (Eigen::Index s = 0; s < batch; ++s) {
    for (Eigen::Index j = 0; j < sizes_[0]; ++j) {
      const float v = x(s, j);
      const float inv_d = 1.0F / std::max(kMinDenominator, st.rates[0][j] + std::max(-v, 0.0F));
      st.inv_d[0](s, j) = inv_d;
      st.q[0](s, j) = std::min(1.0F, std::max(v, 0.0F) * inv_d);
    }
  }
  for (std::size_t l = 1; l <= layers(); ++l) {
    Matrix& q = st.q[l];
    Matrix& inv_d = st.inv_d[l];
    q.resize(batch, sizes_[l]);
    inv_d.resize(batch, sizes_[l]);
    gemm(1.0F, st.q[l - 1], Op::none, weights(params, l - 1, true), Op::none, 0.0F, q);       // N
    gemm(1.0F, st.q[l - 1], Op::none, weights(params, l - 1, false), Op::none, 0.0F, inv_d);  // D − r
    const RowVector& r = st.rates[l];
    for (Eigen::Index s = 0; s < batch; ++s) {
      for (Eigen::Index k = 0; k < sizes_[l]; ++k) {
        const float id = 1.0F / std::max(kMinDenominator, r[k] + inv_d(s, k));
        inv_d(s, k) = id;
        q(s, k) = std::min(1.0F, q(s, k) * id);
      }
    }
  }
  y = st.q[layers()];
}

void GelenbeFeedforward::backward(std::span<const float> params, const Matrix& x, const Matrix& /*y*/, const Matrix& dy,
                                  Matrix* dx, std::span<float> grad, LayerState* state) const {
  auto& st = static_cast<FeedforwardState&>(*state);
  const Eigen::Index batch = x.rows();
  st.delta[layers()] = dy;
  // a = δ m / D and b = −δ q m / D for neuron layer l.
  auto local = [&](std::size_t l) {
    const Matrix& q = st.q[l];
    Matrix& a = st.a[l];
    Matrix& b = st.b[l];
    a.resize(batch, sizes_[l]);
    b.resize(batch, sizes_[l]);
    for (Eigen::Index i = 0; i < q.size(); ++i) {
      const float open = q.data()[i] < 1.0F ? 1.0F : 0.0F;
      const float ai = st.delta[l].data()[i] * open * st.inv_d[l].data()[i];
      a.data()[i] = ai;
      b.data()[i] = -ai * q.data()[i];
    }
  };
  // Row j of W_l also carries r^l_j: add Σ_batch b^l_j to every entry of that row of W⁺_l, W⁻_l.
  auto add_rate_terms = [&](std::size_t l) {
    const std::size_t tensor = static_cast<std::size_t>(sizes_[l]) * static_cast<std::size_t>(sizes_[l + 1]);
    MatrixMap gp(grad.data() + offsets_[l], sizes_[l], sizes_[l + 1]);
    MatrixMap gm(grad.data() + offsets_[l] + tensor, sizes_[l], sizes_[l + 1]);
    st.rate_grad[l].resize(sizes_[l]);
    column_sums(st.b[l], st.rate_grad[l].data());
    gp.colwise() += st.rate_grad[l].transpose();
    gm.colwise() += st.rate_grad[l].transpose();
  };
  for (std::size_t l = layers(); l >= 1; --l) {
    local(l);
    const std::size_t tensor = static_cast<std::size_t>(sizes_[l - 1]) * static_cast<std::size_t>(sizes_[l]);
    MatrixMap gp(grad.data() + offsets_[l - 1], sizes_[l - 1], sizes_[l]);
    MatrixMap gm(grad.data() + offsets_[l - 1] + tensor, sizes_[l - 1], sizes_[l]);
    gemm(1.0F, st.q[l - 1], Op::transpose, st.a[l], Op::none, 0.0F, gp);
    gemm(1.0F, st.q[l - 1], Op::transpose, st.b[l], Op::none, 0.0F, gm);
    if (l < layers()) add_rate_terms(l);
    Matrix& below = st.delta[l - 1];
    below.resize(batch, sizes_[l - 1]);
    gemm(1.0F, st.a[l], Op::none, weights(params, l - 1, true), Op::transpose, 0.0F, below);
    gemm(1.0F, st.b[l], Op::none, weights(params, l - 1, false), Op::transpose, 1.0F, below);
  }
  local(0);
  add_rate_terms(0);
  if (dx != nullptr) {
    // ∂q⁰/∂x: through Λ for x ≥ 0 (a), through λ = −x for x < 0 (−b; zero in fact, since an
    // input neuron with Λ = 0 has q⁰ = 0 whatever λ is).
    dx->resize(batch, sizes_[0]);
    for (Eigen::Index i = 0; i < x.size(); ++i)
      dx->data()[i] = x.data()[i] >= 0.0F ? st.a[0].data()[i] : -st.b[0].data()[i];
  }
}

}  // namespace rnn
