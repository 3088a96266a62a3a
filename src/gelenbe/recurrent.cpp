#include "rnn/gelenbe/recurrent.hpp"

#include <fmt/format.h>
#include <omp.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <exception>
#include <limits>

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

void check_weights(const MatrixD& w, Eigen::Index n, const char* what) {
  if (w.rows() != n || w.cols() != n) throw Error(fmt::format("{} must be {} x {}", what, n, n));
  for (Eigen::Index i = 0; i < w.size(); ++i)
    if (!(w.data()[i] >= 0.0) || !std::isfinite(w.data()[i]))
      throw Error(fmt::format("{} holds {} (weights must be finite and ≥ 0)", what, w.data()[i]));
}

bool passes_gradient(const SteadyState& s, Eigen::Index i) {
  return s.saturated[static_cast<std::size_t>(i)] == 0;
}

// z̃_i = z_i / D_i on units that pass gradients, 0 on the others: the factor every weight
// derivative of unit i carries.
VectorD scaled_adjoint(const SteadyState& s, const VectorD& z) {
  VectorD out(z.size());
  for (Eigen::Index i = 0; i < z.size(); ++i) out[i] = passes_gradient(s, i) ? z[i] / s.denominator[i] : 0.0;
  return out;
}

}  // namespace

RecurrentRnn::RecurrentRnn(Eigen::Index n, RecurrentOptions options)
    : w_plus(MatrixD::Zero(n, n)), w_minus(MatrixD::Zero(n, n)), rates(VectorD::Zero(n)), options_(options) {
  if (n < 1) throw Error("a recurrent RNN needs at least one neuron");
  if (!(options_.tolerance > 0.0) || options_.max_iterations < 1 || !(options_.min_denominator > 0.0) ||
      options_.adjoint_iterations < 0)
    throw Error(
        "recurrent RNN options: tolerance and min_denominator must be > 0, max_iterations ≥ 1, adjoint_iterations ≥ 0");
  if (options_.linear_solver == LuBackend::lapack && !lapack_available())
    throw Error("recurrent RNN options: linear_solver 'lapack' needs a library built with RNNL_BLAS=ON (OpenBLAS)");
}

VectorD RecurrentRnn::firing_rates() const {
  if (!options_.rates_from_weights) return rates;
  // r_i sums row i; column by column, the matrices are read in their storage order.
  VectorD r = VectorD::Zero(size());
  for (Eigen::Index j = 0; j < size(); ++j) r += w_plus.col(j) + w_minus.col(j);
  return r;
}

void RecurrentRnn::randomise(std::uint64_t seed, double scale) {
  Rng rng(seed);
  for (Eigen::Index i = 0; i < w_plus.size(); ++i) w_plus.data()[i] = scale * rng.uniform();
  for (Eigen::Index i = 0; i < w_minus.size(); ++i) w_minus.data()[i] = scale * rng.uniform();
}

VectorD RecurrentRnn::checked_firing_rates() const {
  const Eigen::Index n = size();
  check_weights(w_plus, n, "w_plus");
  check_weights(w_minus, n, "w_minus");
  VectorD r = firing_rates();
  check_rates(r, n, "firing rate r");
  return r;
}

SteadyState RecurrentRnn::solve(const VectorD& excitatory, const VectorD& inhibitory) const {
  return solve_with_rates(excitatory, inhibitory, checked_firing_rates());
}

SteadyState RecurrentRnn::solve_with_rates(const VectorD& excitatory, const VectorD& inhibitory,
                                           const VectorD& r) const {
  const Eigen::Index n = size();
  check_rates(excitatory, n, "excitatory arrival rate Λ");
  check_rates(inhibitory, n, "inhibitory arrival rate λ");
  SteadyState s;
  s.q = VectorD::Zero(n);
  VectorD numerator(n);
  VectorD next(n);
  s.denominator.resize(n);
  // next = min(1, N(q) / D(q)) with N, D at the current q; returns max |next − q|, the amount
  // by which q fails the steady-state equations.
  auto step = [&] {
    numerator.noalias() = excitatory + w_plus.transpose() * s.q;
    s.denominator.noalias() = r + inhibitory + w_minus.transpose() * s.q;
    s.denominator = s.denominator.cwiseMax(options_.min_denominator);
    next = numerator.cwiseQuotient(s.denominator).cwiseMin(1.0);
    return (next - s.q).cwiseAbs().maxCoeff();
  };
  for (s.iterations = 1; s.iterations <= options_.max_iterations; ++s.iterations) {
    s.residual = step();
    if (!std::isfinite(s.residual)) break;
    // Accept q only if it satisfies the equations (N and D are those of q itself), so a step
    // that merely changed little, far from a solution, is never returned.
    if (s.residual <= options_.tolerance) {
      s.saturated.assign(static_cast<std::size_t>(n), 0);
      for (Eigen::Index i = 0; i < n; ++i)
        s.saturated[static_cast<std::size_t>(i)] =
            numerator[i] >= s.denominator[i] || s.denominator[i] <= options_.min_denominator ? 1 : 0;
      return s;
    }
    s.q.swap(next);
  }
  throw Error(fmt::format("RNN steady state did not converge: residual {:.3g} after {} iterations (tolerance {:.3g})",
                          s.residual, std::min(s.iterations, options_.max_iterations), options_.tolerance));
}

void RecurrentRnn::identity_minus_w(const SteadyState& s, const VectorD& e, StridedMatrixRef a) const {
  const Eigen::Index n = size();
  if (s.q.size() != n || s.denominator.size() != n || static_cast<Eigen::Index>(s.saturated.size()) != n ||
      e.size() != n)
    throw Error(fmt::format("steady state or loss gradient does not match the network's {} neurons", n));
  // W(j,i) = (w⁺(j,i) − w⁻(j,i) q_i) / D_i on the columns of units that pass gradients.
  for (Eigen::Index i = 0; i < n; ++i) {
    if (passes_gradient(s, i))
      a.col(i) = (w_minus.col(i) * s.q[i] - w_plus.col(i)) / s.denominator[i];
    else
      a.col(i).setZero();
  }
  a.diagonal().array() += 1.0;
}

namespace {

void prepare(RecurrentGradient& out, Eigen::Index n) {
  if (out.w_plus.size() == 0 && out.w_minus.size() == 0) out.resize(n);
  if (out.w_plus.rows() != n || out.w_plus.cols() != n || out.w_minus.rows() != n || out.w_minus.cols() != n)
    throw Error(fmt::format("gradient buffers must be {} x {}", n, n));
}

// n × n scratch matrices for I − W, its factors and (explicit form) its inverse, per thread and
// reused from pattern to pattern (a fresh 0.5 MB matrix per pattern, n = 256, costs page faults
// comparable to the solve itself), with the leading dimension DenseLu works fastest with.
StridedMatrixRef scratch_matrix(Eigen::Index n, std::size_t slot) {
  thread_local std::array<MatrixD, 2> storage;
  MatrixD& m = storage.at(slot);
  const Eigen::Index rows = DenseLu::padded_rows(n);
  if (m.rows() != rows || m.cols() != n) m.resize(rows, n);
  return m.topRows(n);
}

// An exactly singular I − W (a zero pivot), or one so ill-conditioned that the solution is not
// finite, leaves the gradient undefined.
[[noreturn]] void singular_error() {
  throw Error("I − W is singular at this steady state: the gradient is undefined");
}

// Below this size the LU costs no more than a few iteration steps: the adjoint always factorises.
constexpr Eigen::Index kIterateFromSize = 128;

// Solves (I − W) z = e by z ← z + (e − (I − W) z) from z = e, i.e. z_{k+1} = e + W z_k, the
// partial sums of Σ_k W^k e. W is the transpose of the Jacobian of the steady-state map
// q ↦ N(q) / D(q) at q, so this converges wherever the fixed-point iteration that found q
// converges locally, and at its rate, for one n × n matrix-vector product per step. Stops when
// the residual reaches rounding level. Returns false (the caller factorises instead) once
// `budget` steps are spent, or earlier, from the fourth step on, when the residual's mean rate of
// decrease is not below 1 or predicts more steps than the budget.
bool solve_by_iteration(const StridedMatrixRef& a, const VectorD& e, int budget, VectorD& z) {
  constexpr double kRoundingLevel = 8 * std::numeric_limits<double>::epsilon();
  constexpr int kStepsBeforePredicting = 4;
  const double e_norm = e.cwiseAbs().maxCoeff();
  z = e;
  VectorD r(e.size());
  double first = 0.0;
  for (int k = 1; k <= budget; ++k) {
    r.noalias() = e - a * z;
    const double residual = r.cwiseAbs().maxCoeff();
    z += r;
    const double target = kRoundingLevel * (e_norm + z.cwiseAbs().maxCoeff());
    if (residual <= target) return true;
    if (!std::isfinite(residual)) return false;
    if (k == 1) first = residual;
    if (k >= kStepsBeforePredicting) {
      // The mean rate so far (single steps can grow while the iteration settles).
      const double rate = std::pow(residual / first, 1.0 / (k - 1));
      if (!(rate < 1.0) || k + std::log(target / residual) / std::log(rate) > budget) return false;
    }
  }
  return false;
}

}  // namespace

void RecurrentRnn::add_gradient_adjoint(const SteadyState& state, const VectorD& e, RecurrentGradient& out) const {
  const SteadyState& s = state;
  StridedMatrixRef a = scratch_matrix(size(), 0);
  identity_minus_w(s, e, a);
  prepare(out, size());
  VectorD z;
  const bool iterated = size() >= kIterateFromSize && options_.adjoint_iterations > 0 &&
                        solve_by_iteration(a, e, options_.adjoint_iterations, z);
  if (!iterated) {
    const DenseLu lu(a, options_.linear_solver);  // factorised in place
    if (lu.singular()) singular_error();
    z = e;
    lu.solve(z);
  }
  if (!z.allFinite()) singular_error();
  const VectorD zt = scaled_adjoint(s, z);
  const VectorD qz = s.q.cwiseProduct(zt);
  // Column v: ∂E/∂w⁺(·,v) = q z̃_v − q∘z̃ and ∂E/∂w⁻(·,v) = −q q_v z̃_v − q∘z̃ (the second terms
  // only with rates from weights), each matrix written in one pass.
  const VectorD rate_term = options_.rates_from_weights ? qz : VectorD::Zero(size());
  for (Eigen::Index v = 0; v < size(); ++v) {
    out.w_plus.col(v) += zt[v] * s.q - rate_term;
    out.w_minus.col(v) -= qz[v] * s.q + rate_term;
  }
}

void RecurrentRnn::add_gradient_explicit_inverse(const SteadyState& state, const VectorD& e,
                                                 RecurrentGradient& out) const {
  const SteadyState& s = state;
  const Eigen::Index n = size();
  StridedMatrixRef a = scratch_matrix(n, 0);
  identity_minus_w(s, e, a);
  const DenseLu lu(a, options_.linear_solver);
  if (lu.singular()) singular_error();
  StridedMatrixRef inverse = scratch_matrix(n, 1);
  lu.invert(inverse);
  if (!inverse.allFinite()) singular_error();
  prepare(out, n);
  // The 1993 recipe: for every weight, γ(u,v) = the direct partials ∂f_i/∂w(u,v) (non-zero at
  // i = v, and at i = u when r_u sums u's outgoing weights), ∂q/∂w(u,v) = γ(u,v) (I − W)⁻¹ —
  // a combination of two rows of the inverse — and ∂E/∂w(u,v) = ∂q/∂w(u,v) · e. The inverse is
  // stored transposed (in the factors' place, no longer needed) so that those rows are
  // contiguous columns.
  a = inverse.transpose();
  const StridedMatrixRef& rows = a;
  VectorD dq_dw(n);
  auto direct = [&](Eigen::Index i, double partial) {
    return passes_gradient(s, i) ? partial / s.denominator[i] : 0.0;
  };
  for (Eigen::Index u = 0; u < n; ++u) {
    const double rate_term = options_.rates_from_weights ? direct(u, -s.q[u]) : 0.0;  // D_u grows by 1
    for (Eigen::Index v = 0; v < n; ++v) {
      dq_dw = direct(v, s.q[u]) * rows.col(v) + rate_term * rows.col(u);  // N_v grows by q_u
      out.w_plus(u, v) += dq_dw.dot(e);
      dq_dw = direct(v, -s.q[u] * s.q[v]) * rows.col(v) + rate_term * rows.col(u);  // D_v grows by q_u
      out.w_minus(u, v) += dq_dw.dot(e);
    }
  }
}

double loss_and_gradient(const RecurrentRnn& network, std::span<const Pattern> patterns, const VectorD& output_weights,
                         RecurrentGradient& gradient, GradientForm form) {
  const Eigen::Index n = network.size();
  if (output_weights.size() != n) throw Error("output weights must have one entry per neuron");
  for (const auto& p : patterns)
    if (p.target.size() != n) throw Error(fmt::format("a target has {} entries, the network {}", p.target.size(), n));
  // Per-thread sums, made before the parallel region and added in thread order afterwards: with
  // a static schedule the result depends on the thread count only, not on timing.
  const int threads = omp_get_max_threads();
  std::vector<RecurrentGradient> partial(static_cast<std::size_t>(threads));
  std::vector<double> partial_loss(static_cast<std::size_t>(threads), 0.0);
  for (auto& g : partial) g.resize(n);
  const VectorD rates = network.checked_firing_rates();  // once for the batch, not per pattern
  std::exception_ptr failure;
#pragma omp parallel num_threads(threads)
  {
    const auto t = static_cast<std::size_t>(omp_get_thread_num());
#pragma omp for schedule(static)
    for (std::size_t k = 0; k < patterns.size(); ++k) {
      try {
        const SteadyState s = network.solve_with_rates(patterns[k].excitatory, patterns[k].inhibitory, rates);
        const VectorD error = output_weights.cwiseProduct(s.q - patterns[k].target);
        partial_loss[t] += 0.5 * error.dot(s.q - patterns[k].target);
        if (form == GradientForm::adjoint)
          network.add_gradient_adjoint(s, error, partial[t]);
        else
          network.add_gradient_explicit_inverse(s, error, partial[t]);
      } catch (...) {
#pragma omp critical(rnn_recurrent_failure)
        if (!failure) failure = std::current_exception();
      }
    }
  }
  gradient.resize(n);
  if (failure) std::rethrow_exception(failure);
  double loss = 0.0;
  for (std::size_t t = 0; t < partial.size(); ++t) {
    gradient.w_plus += partial[t].w_plus;
    gradient.w_minus += partial[t].w_minus;
    loss += partial_loss[t];
  }
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
