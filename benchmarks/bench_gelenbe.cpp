// Gelenbe's recurrent RNN: one learning step for one pattern (steady state + exact gradient of
// all 2n² weights), single thread, over n = 16 … 512:
//   Adjoint            one LU solve, z = (I − W)⁻¹ e, then O(n²) outer products (rnn-math.md §1.2)
//   ExplicitInverse    the 1993 paper's recipe: (I − W)⁻¹ explicitly, then for every weight the
//                      row vector γ(u,v) (I − W)⁻¹: O(n⁴), run up to n = 256
//   InverseTimesError  the explicit inverse used well: z = (I − W)⁻¹ e by inverting instead of
//                      solving, O(n³) — what a careful 1993-style code would do
// Complexity fits (oNCubed) are printed for the O(n³) forms.
// Run: build/benchmarks/rnnl_bench_gelenbe [--benchmark_filter=Adjoint]
#include <benchmark/benchmark.h>

#include <Eigen/LU>

#include "rnn/gelenbe/recurrent.hpp"

namespace {

struct Setup {
  rnn::RecurrentRnn network;
  rnn::Pattern pattern;
  rnn::VectorD outputs;
};

Setup make_setup(Eigen::Index n) {
  Setup s{rnn::RecurrentRnn(n), {}, rnn::VectorD::Zero(n)};
  s.network.randomise(1, 1.0 / static_cast<double>(n));
  s.pattern.excitatory = rnn::VectorD::Constant(n, 0.3);
  s.pattern.inhibitory = rnn::VectorD::Constant(n, 0.1);
  s.pattern.target = rnn::VectorD::Constant(n, 0.5);
  s.outputs.tail(n / 4).setOnes();
  return s;
}

rnn::VectorD loss_gradient(const Setup& s, const rnn::SteadyState& state) {
  return s.outputs.cwiseProduct(state.q - s.pattern.target);
}

void BM_Adjoint(benchmark::State& st) {
  const auto s = make_setup(st.range(0));
  rnn::RecurrentGradient g;
  for (auto _ : st) {
    g.resize(st.range(0));
    const auto state = s.network.solve(s.pattern.excitatory, s.pattern.inhibitory);
    s.network.add_gradient_adjoint(state, loss_gradient(s, state), g);
    benchmark::DoNotOptimize(g.w_plus.data());
  }
  st.SetComplexityN(st.range(0));
}

void BM_ExplicitInverse(benchmark::State& st) {
  const auto s = make_setup(st.range(0));
  rnn::RecurrentGradient g;
  for (auto _ : st) {
    g.resize(st.range(0));
    const auto state = s.network.solve(s.pattern.excitatory, s.pattern.inhibitory);
    s.network.add_gradient_explicit_inverse(state, loss_gradient(s, state), g);
    benchmark::DoNotOptimize(g.w_plus.data());
  }
}

// The adjoint's algebra with z from an explicit inverse: isolates "invert" vs "solve".
void BM_InverseTimesError(benchmark::State& st) {
  const auto s = make_setup(st.range(0));
  const Eigen::Index n = st.range(0);
  for (auto _ : st) {
    const auto state = s.network.solve(s.pattern.excitatory, s.pattern.inhibitory);
    rnn::MatrixD a = -(s.network.w_plus - s.network.w_minus * state.q.asDiagonal());
    for (Eigen::Index i = 0; i < n; ++i) a.col(i) /= state.denominator[i];
    a.diagonal().array() += 1.0;
    const rnn::VectorD z = a.inverse() * loss_gradient(s, state);
    const rnn::VectorD zt = z.cwiseQuotient(state.denominator);
    const rnn::VectorD qz = state.q.cwiseProduct(zt);
    rnn::MatrixD gp = state.q * zt.transpose();
    rnn::MatrixD gm = -state.q * qz.transpose();
    gp.colwise() -= qz;
    gm.colwise() -= qz;
    benchmark::DoNotOptimize(gp.data());
    benchmark::DoNotOptimize(gm.data());
  }
  st.SetComplexityN(st.range(0));
}

BENCHMARK(BM_Adjoint)
    ->RangeMultiplier(2)
    ->Range(16, 512)
    ->Unit(benchmark::kMillisecond)
    ->Complexity(benchmark::oNCubed);
BENCHMARK(BM_InverseTimesError)
    ->RangeMultiplier(2)
    ->Range(16, 512)
    ->Unit(benchmark::kMillisecond)
    ->Complexity(benchmark::oNCubed);
BENCHMARK(BM_ExplicitInverse)->RangeMultiplier(2)->Range(16, 256)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
