#pragma once
// Gelenbe's recurrent Random Neural Network (Neural Computation 1989, 1990, 1993).
//
// n neurons; w⁺(i,j), w⁻(i,j) ≥ 0 are the rates at which neuron i sends excitatory / inhibitory
// spikes to j; Λ_i, λ_i are external excitatory / inhibitory arrival rates. In steady state
//   q_i = min(1, N_i / D_i),  N_i = Λ_i + Σ_j q_j w⁺(j,i),  D_i = r_i + λ_i + Σ_j q_j w⁻(j,i)
// with firing rates r_i = Σ_j (w⁺(i,j) + w⁻(i,j)) (no departures), or fixed rates per option.
// q is found by fixed-point iteration from q = 0 and accepted only if it satisfies the equations
// to the tolerance; failing to converge is an error carrying the residual, never a silent result.
// A unit with N_i ≥ D_i is saturated: q_i = 1 and nothing flows back through it (its derivatives
// are 0). So is a unit whose D_i fell below min_denominator (it neither fires nor is inhibited:
// the model leaves its q undefined), rather than passing back gradients of order 1/ε.
//
// Learning (Gelenbe 1993), exact gradients of a loss E(q): with e = ∂E/∂q and
//   W(j,i) = (w⁺(j,i) − w⁻(j,i) q_i) / D_i            (0 in the columns of saturated units)
// the adjoint form (docs/math.md §2.3) solves (I − W) z = e, then
//   ∂E/∂w⁺(u,v) =  q_u (z_v / D_v − z_u / D_u)
//   ∂E/∂w⁻(u,v) = −q_u (z_u / D_u + q_v z_v / D_v)
// (the z_u / D_u terms come from r_u depending on u's outgoing weights; absent with fixed
// rates). The 1993 paper's own form inverts I − W and builds, for every weight, the vector
// ∂q/∂w(u,v) = γ(u,v) (I − W)⁻¹ (γ has two non-zeros, so two rows of the inverse: O(n) per
// weight, O(n³) in all, with a larger constant); it is kept as the reference the tests compare
// against (add_gradient_explicit_inverse). The adjoint solves by iterating z ← e + W z (W is the
// transpose of the steady-state map's Jacobian, so this contracts at the rate the steady state
// was found) when n ≥ 128 and it reaches rounding level within options.adjoint_iterations steps,
// and otherwise, like the explicit form, factorises I − W with DenseLu (dense_lu.hpp) in padded
// per-thread storage, through the back end options.linear_solver names.
// Double precision throughout: n is small and the LU solve wants it.
#include <Eigen/Core>
#include <cstdint>
#include <span>
#include <vector>

#include "rnn/gelenbe/dense_lu.hpp"

namespace rnn {

using VectorD = Eigen::VectorXd;
using MatrixD = Eigen::MatrixXd;
using RowVectorD = Eigen::RowVectorXd;

struct RecurrentOptions {
  double tolerance = 1e-10;        // converged when max_i |q_i − min(1, N_i / D_i)| ≤ tolerance
  int max_iterations = 10000;      // then: rnn::Error with the residual
  bool rates_from_weights = true;  // r_i = Σ_j w⁺(i,j) + w⁻(i,j); false: the network's fixed `rates`
  double min_denominator = 1e-12;  // floor of D_i; a unit at the floor passes no gradient
  LuBackend linear_solver = LuBackend::automatic;  // factorisation of I − W (lapack needs RNNL_BLAS)
  // Adjoint solve for n ≥ 128: at most this many steps of z ← e + W z before falling back to the
  // LU (0: always LU). The steps converge at the steady-state iteration's rate, one n × n
  // matrix-vector product each; 64 costs about what the LU costs at n = 128–256.
  int adjoint_iterations = 64;
};

struct SteadyState {
  VectorD q;
  VectorD denominator;                  // D_i
  std::vector<std::uint8_t> saturated;  // 1 where N_i ≥ D_i (q_i clamped at 1) or D_i hit its floor
  int iterations = 0;
  double residual = 0.0;  // max_i |q_i − min(1, N_i / D_i)| at the returned q
};

// The 1993 loss: E = ½ Σ_i a_i (q_i − y_i)² over the output neurons (a_i > 0; 0 elsewhere).
struct Pattern {
  VectorD excitatory;  // Λ
  VectorD inhibitory;  // λ
  VectorD target;      // y (entries where a_i = 0 are ignored)
};

struct RecurrentGradient {
  MatrixD w_plus;
  MatrixD w_minus;
  void resize(Eigen::Index n) {
    w_plus.setZero(n, n);
    w_minus.setZero(n, n);
  }
};

enum class GradientForm : std::uint8_t { adjoint, explicit_inverse };

class RecurrentRnn {
 public:
  // Throws rnn::Error on invalid options, or options.linear_solver = lapack without OpenBLAS.
  explicit RecurrentRnn(Eigen::Index n, RecurrentOptions options = {});

  [[nodiscard]] Eigen::Index size() const { return w_plus.rows(); }
  [[nodiscard]] const RecurrentOptions& options() const { return options_; }
  [[nodiscard]] VectorD firing_rates() const;

  // Throws rnn::Error if the iteration does not converge, or on inputs of the wrong size,
  // negative or non-finite rates or weights, or invalid options.
  [[nodiscard]] SteadyState solve(const VectorD& excitatory, const VectorD& inhibitory) const;

  // ∂E/∂w± for a loss with gradient e = ∂E/∂q at `state` (a steady state of this network), added
  // into `out` (resized to n × n zeros if empty). Throws rnn::Error on mismatched sizes or if
  // I − W is singular.
  void add_gradient_adjoint(const SteadyState& state, const VectorD& e, RecurrentGradient& out) const;
  void add_gradient_explicit_inverse(const SteadyState& state, const VectorD& e, RecurrentGradient& out) const;

  // Uniform weights in [0, scale) (seeded), so each neuron's total rate starts near n · scale.
  void randomise(std::uint64_t seed, double scale);

  MatrixD w_plus;  // (i, j): from i to j
  MatrixD w_minus;
  VectorD rates;  // used when options().rates_from_weights is false

 private:
  // Writes I − W at `state` into `a` (n × n), with W(j,i) = (w⁺(j,i) − w⁻(j,i) q_i) / D_i and
  // zero columns for units that pass no gradient; checks that `state` and `e` fit this network.
  void identity_minus_w(const SteadyState& state, const VectorD& e, StridedMatrixRef a) const;
  // solve() once the weights are checked and the firing rates r computed: a batch of patterns
  // shares them (loss_and_gradient), so they are not re-derived for every pattern.
  [[nodiscard]] SteadyState solve_with_rates(const VectorD& excitatory, const VectorD& inhibitory,
                                             const VectorD& rates) const;
  // Checks the weights and returns the firing rates, checked too.
  [[nodiscard]] VectorD checked_firing_rates() const;
  friend double loss_and_gradient(const RecurrentRnn& network, std::span<const Pattern> patterns,
                                  const VectorD& output_weights, RecurrentGradient& gradient, GradientForm form);

  RecurrentOptions options_;
};

// Loss and its gradient summed over `patterns` (OpenMP over patterns, one LU per pattern).
// `output_weights` holds a_i. Returns Σ_patterns E.
double loss_and_gradient(const RecurrentRnn& network, std::span<const Pattern> patterns, const VectorD& output_weights,
                         RecurrentGradient& gradient, GradientForm form = GradientForm::adjoint);

// One batch gradient-descent step, w ← max(0, w − η ∂E/∂w) (the 1993 rule for weights that
// would turn negative). Returns the loss before the step.
double learning_step(RecurrentRnn& network, std::span<const Pattern> patterns, const VectorD& output_weights,
                     double learning_rate, GradientForm form = GradientForm::adjoint);

}  // namespace rnn
