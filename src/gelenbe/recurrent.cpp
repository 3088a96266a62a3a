#include "rnn/gelenbe/recurrent.hpp"

#include <fmt/format.h>

#include <Eigen/LU>
#include <algorithm>
#include <cmath>
#include <exception>

#include "rnn/core/error.hpp"
#include "rnn/core/rng.hpp"

namespace rnn {
namespace {

void check_rates(const VectorD& v, Eigen::Index n, const char* what) {
  if (v.size() != n) throw Error(fmt::format("{} has {} entries, the network has {} neurons", what, v.size(), n));
  for (Eigen::Index i = 0; i < n; ++i)
    if (!(v[i] >= 0.0) || !std::isfinite(v[i]))
      throw Error(fmt::format("{}[{}] = {} (rates must be finite and ≥ 0)", what, i, v[i]));
}

// z̃_i = z_i / D_i on unsaturated units, 0 on saturated ones: the factor every weight derivative
// of unit i carries.
VectorD scaled_adjoint(const SteadyState& s, const VectorD& z) {
  VectorD out(z.size());
  for (Eigen::Index i = 0; i < z.size(); ++i)
    out[i] = s.saturated[static_cast<std::size_t>(i)] != 0 ? 0.0 : z[i] / s.denominator[i];
  return out;
}

}  // namespace

RecurrentRnn::RecurrentRnn(Eigen::Index n, RecurrentOptions options)
    : w_plus(MatrixD::Zero(n, n)), w_minus(MatrixD::Zero(n, n)), rates(VectorD::Zero(n)), options_(options) {
  if (n < 1) throw Error("a recurrent RNN needs at least one neuron");
}

VectorD RecurrentRnn::firing_rates() const {
  if (!options_.rates_from_weights) return rates;
  return (w_plus + w_minus).rowwise().sum();
}

void RecurrentRnn::randomise(std::uint64_t seed, double scale) {
  Rng rng(seed);
  for (Eigen::Index i = 0; i < w_plus.size(); ++i) w_plus.data()[i] = scale * rng.uniform();
  for (Eigen::Index i = 0; i < w_minus.size(); ++i) w_minus.data()[i] = scale * rng.uniform();
}

SteadyState RecurrentRnn::solve(const VectorD& excitatory, const VectorD& inhibitory) const {
  const Eigen::Index n = size();
  check_rates(excitatory, n, "excitatory arrival rate Λ");
  check_rates(inhibitory, n, "inhibitory arrival rate λ");
  const VectorD r = firing_rates();
  check_rates(r, n, "firing rate r");
  SteadyState s;
  s.q = VectorD::Zero(n);
  VectorD numerator(n);
  VectorD next(n);
  s.denominator.resize(n);
  for (s.iterations = 1; s.iterations <= options_.max_iterations; ++s.iterations) {
    numerator.noalias() = excitatory + w_plus.transpose() * s.q;
    s.denominator.noalias() = r + inhibitory + w_minus.transpose() * s.q;
    s.denominator = s.denominator.cwiseMax(options_.min_denominator);
    next = numerator.cwiseQuotient(s.denominator).cwiseMin(1.0);
    s.residual = (next - s.q).cwiseAbs().maxCoeff();
    s.q.swap(next);
    if (!std::isfinite(s.residual)) break;
    if (s.residual <= options_.tolerance) {
      // D and the saturation flags at the returned q, as the gradients need them.
      numerator.noalias() = excitatory + w_plus.transpose() * s.q;
      s.denominator = (r + inhibitory + w_minus.transpose() * s.q).cwiseMax(options_.min_denominator);
      s.saturated.assign(static_cast<std::size_t>(n), 0);
      for (Eigen::Index i = 0; i < n; ++i) s.saturated[static_cast<std::size_t>(i)] = numerator[i] >= s.denominator[i];
      return s;
    }
  }
  throw Error(fmt::format("RNN steady state did not converge: residual {:.3g} after {} iterations (tolerance {:.3g})",
                          s.residual, std::min(s.iterations, options_.max_iterations), options_.tolerance));
}

void RecurrentRnn::add_gradient_adjoint(const SteadyState& s, const VectorD& e, RecurrentGradient& out) const {
  const Eigen::Index n = size();
  // (I − W) with W(j,i) = (w⁺(j,i) − w⁻(j,i) q_i) / D_i on unsaturated columns i.
  MatrixD a = -(w_plus - w_minus * s.q.asDiagonal());
  for (Eigen::Index i = 0; i < n; ++i) {
    if (s.saturated[static_cast<std::size_t>(i)] != 0)
      a.col(i).setZero();
    else
      a.col(i) /= s.denominator[i];
  }
  a.diagonal().array() += 1.0;
  const VectorD z = a.partialPivLu().solve(e);
  const VectorD zt = scaled_adjoint(s, z);
  const VectorD qz = s.q.cwiseProduct(zt);
  out.w_plus.noalias() += s.q * zt.transpose();
  out.w_minus.noalias() -= s.q * qz.transpose();
  if (options_.rates_from_weights) {
    out.w_plus.colwise() -= qz;
    out.w_minus.colwise() -= qz;
  }
}

void RecurrentRnn::add_gradient_explicit_inverse(const SteadyState& s, const VectorD& e, RecurrentGradient& out) const {
  const Eigen::Index n = size();
  MatrixD a = -(w_plus - w_minus * s.q.asDiagonal());
  for (Eigen::Index i = 0; i < n; ++i) {
    if (s.saturated[static_cast<std::size_t>(i)] != 0)
      a.col(i).setZero();
    else
      a.col(i) /= s.denominator[i];
  }
  a.diagonal().array() += 1.0;
  const MatrixD inverse = a.inverse();
  // The 1993 recipe: for every weight, the row vector γ(u,v) of direct partials ∂f_i/∂w(u,v),
  // then ∂q/∂w(u,v) = γ(u,v) (I − W)⁻¹ and ∂E/∂w(u,v) = ∂q/∂w(u,v) · e.
  RowVectorD gamma(n);
  auto direct = [&](Eigen::Index i, double value) {
    if (s.saturated[static_cast<std::size_t>(i)] == 0) gamma[i] += value / s.denominator[i];
  };
  for (Eigen::Index u = 0; u < n; ++u) {
    for (Eigen::Index v = 0; v < n; ++v) {
      gamma.setZero();
      direct(v, s.q[u]);                                    // N_v grows by q_u
      if (options_.rates_from_weights) direct(u, -s.q[u]);  // D_u grows by 1: ∂f_u = −q_u / D_u
      out.w_plus(u, v) += (gamma * inverse).dot(e.transpose());
      gamma.setZero();
      direct(v, -s.q[u] * s.q[v]);  // D_v grows by q_u: ∂f_v = −q_v q_u / D_v
      if (options_.rates_from_weights) direct(u, -s.q[u]);
      out.w_minus(u, v) += (gamma * inverse).dot(e.transpose());
    }
  }
}

double loss_and_gradient(const RecurrentRnn& network, std::span<const Pattern> patterns, const VectorD& output_weights,
                         RecurrentGradient& gradient, GradientForm form) {
  const Eigen::Index n = network.size();
  if (output_weights.size() != n) throw Error("output weights must have one entry per neuron");
  for (const auto& p : patterns)
    if (p.target.size() != n) throw Error(fmt::format("a target has {} entries, the network {}", p.target.size(), n));
  gradient.resize(n);
  double loss = 0.0;
  std::exception_ptr failure;
#pragma omp parallel
  {
    RecurrentGradient local;
    local.resize(n);
    double local_loss = 0.0;
#pragma omp for schedule(dynamic)
    for (std::size_t k = 0; k < patterns.size(); ++k) {
      try {
        const SteadyState s = network.solve(patterns[k].excitatory, patterns[k].inhibitory);
        const VectorD error = output_weights.cwiseProduct(s.q - patterns[k].target);
        local_loss += 0.5 * error.dot(s.q - patterns[k].target);
        if (form == GradientForm::adjoint)
          network.add_gradient_adjoint(s, error, local);
        else
          network.add_gradient_explicit_inverse(s, error, local);
      } catch (...) {
#pragma omp critical(rnn_recurrent_failure)
        if (!failure) failure = std::current_exception();
      }
    }
#pragma omp critical(rnn_recurrent_sum)
    {
      gradient.w_plus += local.w_plus;
      gradient.w_minus += local.w_minus;
      loss += local_loss;
    }
  }
  if (failure) std::rethrow_exception(failure);
  return loss;
}

double learning_step(RecurrentRnn& network, std::span<const Pattern> patterns, const VectorD& output_weights,
                     double learning_rate, GradientForm form) {
  RecurrentGradient g;
  const double loss = loss_and_gradient(network, patterns, output_weights, g, form);
  network.w_plus = (network.w_plus - learning_rate * g.w_plus).cwiseMax(0.0);
  network.w_minus = (network.w_minus - learning_rate * g.w_minus).cwiseMax(0.0);
  return loss;
}

}  // namespace rnn
