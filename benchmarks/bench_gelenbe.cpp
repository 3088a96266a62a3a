// Gelenbe's recurrent RNN: one learning step for one pattern (steady state + exact gradient of
// all 2n² weights), single thread, over n = 16 … 512:
//   Adjoint            the library's adjoint step (recurrent.hpp): (I − W) z = e by iterating
//                      z ← e + W z from n = 128 on (LU if that does not settle), then O(n²)
//                      outer products
//   AdjointLu          the same with the LU at every size (adjoint_iterations = 0): O(n³)
//   AdjointLapackLu    the same with OpenBLAS's LAPACK for the LU (registered when the library
//                      has it): the comparison behind DenseLu's automatic back end
//   ExplicitInverse    the 1993 paper's recipe: (I − W)⁻¹ explicitly (the same LU), then for every
//                      weight the vector ∂q/∂w(u,v) = γ(u,v) (I − W)⁻¹ (two rows of the inverse)
//                      and its dot product with e: O(n³)
//   InverseTimesError  the adjoint's algebra with z from an explicit inverse: isolates the gain
//                      of solving over inverting
//   InverseTimesVectors  each γ(u,v) as a dense row vector times the inverse, n² vector-matrix
//                      products: O(n⁴), to n = 256
//   Lu{Eigen,Lapack}{Padded,Unpadded}  DenseLu alone (factorise + solve), per back end, with the
//                      padded leading dimension or with n: why the library pads
// Complexity fits (oNCubed) are printed for the LU-based forms.
// Run: OMP_NUM_THREADS=1 build/benchmarks/rnnl_bench_gelenbe [--benchmark_filter=Adjoint]
#include <benchmark/benchmark.h>

#include <omp.h>

#include <Eigen/Core>

#include "rnn/gelenbe/dense_lu.hpp"
#include "rnn/gelenbe/recurrent.hpp"

namespace {

struct Setup {
  rnn::RecurrentRnn network;
  rnn::Pattern pattern;
  rnn::VectorD outputs;
};

Setup make_setup(Eigen::Index n, const rnn::RecurrentOptions& options = {}) {
  Setup s{rnn::RecurrentRnn(n, options), {}, rnn::VectorD::Zero(n)};
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

// One learning step through the library's own gradient for the given form.
void learning_step(benchmark::State& st, rnn::GradientForm form, const rnn::RecurrentOptions& options = {}) {
  const auto s = make_setup(st.range(0), options);
  rnn::RecurrentGradient g;
  for (auto _ : st) {
    g.resize(st.range(0));
    const auto state = s.network.solve(s.pattern.excitatory, s.pattern.inhibitory);
    if (form == rnn::GradientForm::adjoint)
      s.network.add_gradient_adjoint(state, loss_gradient(s, state), g);
    else
      s.network.add_gradient_explicit_inverse(state, loss_gradient(s, state), g);
    benchmark::DoNotOptimize(g.w_plus.data());
  }
  st.SetComplexityN(st.range(0));
}

void BM_Adjoint(benchmark::State& st) {
  learning_step(st, rnn::GradientForm::adjoint);
}
void BM_AdjointLu(benchmark::State& st) {
  learning_step(st, rnn::GradientForm::adjoint, {.adjoint_iterations = 0});
}
void BM_AdjointLapackLu(benchmark::State& st) {
  learning_step(st, rnn::GradientForm::adjoint, {.linear_solver = rnn::LuBackend::lapack, .adjoint_iterations = 0});
}
void BM_ExplicitInverse(benchmark::State& st) {
  learning_step(st, rnn::GradientForm::explicit_inverse);
}

// A⁻¹ through DenseLu in padded storage, as the library inverts I − W.
rnn::MatrixD inverse_of(const rnn::MatrixD& a) {
  const Eigen::Index n = a.rows();
  rnn::MatrixD factors(rnn::DenseLu::padded_rows(n), n);
  rnn::MatrixD inverse(rnn::DenseLu::padded_rows(n), n);
  factors.topRows(n) = a;
  const rnn::DenseLu lu(factors.topRows(n));
  lu.invert(inverse.topRows(n));
  return inverse.topRows(n);
}

rnn::MatrixD identity_minus_w(const Setup& s, const rnn::SteadyState& state) {
  const Eigen::Index n = s.network.size();
  rnn::MatrixD a = -(s.network.w_plus - s.network.w_minus * state.q.asDiagonal());
  for (Eigen::Index i = 0; i < n; ++i) a.col(i) /= state.denominator[i];
  a.diagonal().array() += 1.0;
  return a;
}

void BM_InverseTimesVectors(benchmark::State& st) {
  const auto s = make_setup(st.range(0));
  const Eigen::Index n = st.range(0);
  rnn::MatrixD gp(n, n);
  rnn::MatrixD gm(n, n);
  rnn::RowVectorD gamma(n);
  for (auto _ : st) {
    const auto state = s.network.solve(s.pattern.excitatory, s.pattern.inhibitory);
    const rnn::MatrixD inverse = inverse_of(identity_minus_w(s, state));
    const rnn::VectorD e = loss_gradient(s, state);
    const rnn::VectorD& q = state.q;
    const rnn::VectorD& d = state.denominator;
    for (Eigen::Index u = 0; u < n; ++u) {
      for (Eigen::Index v = 0; v < n; ++v) {
        gamma.setZero();
        gamma[v] += q[u] / d[v];
        gamma[u] -= q[u] / d[u];
        gp(u, v) = (gamma * inverse).dot(e.transpose());
        gamma.setZero();
        gamma[v] -= q[u] * q[v] / d[v];
        gamma[u] -= q[u] / d[u];
        gm(u, v) = (gamma * inverse).dot(e.transpose());
      }
    }
    benchmark::DoNotOptimize(gp.data());
    benchmark::DoNotOptimize(gm.data());
  }
}

// The adjoint's algebra with z from an explicit inverse: isolates "invert" vs "solve". Buffers
// are allocated once, as the library's are, so page faults do not count.
void BM_InverseTimesError(benchmark::State& st) {
  const Eigen::Index n = st.range(0);
  const auto s = make_setup(n);
  rnn::MatrixD factors(rnn::DenseLu::padded_rows(n), n);
  rnn::MatrixD inverse(rnn::DenseLu::padded_rows(n), n);
  rnn::MatrixD gp(n, n);
  rnn::MatrixD gm(n, n);
  for (auto _ : st) {
    const auto state = s.network.solve(s.pattern.excitatory, s.pattern.inhibitory);
    factors.topRows(n) = identity_minus_w(s, state);
    const rnn::DenseLu lu(factors.topRows(n));
    lu.invert(inverse.topRows(n));
    const rnn::VectorD z = inverse.topRows(n) * loss_gradient(s, state);
    const rnn::VectorD zt = z.cwiseQuotient(state.denominator);
    const rnn::VectorD qz = state.q.cwiseProduct(zt);
    gp.noalias() = state.q * zt.transpose();
    gm.noalias() = -state.q * qz.transpose();
    gp.colwise() -= qz;
    gm.colwise() -= qz;
    benchmark::DoNotOptimize(gp.data());
    benchmark::DoNotOptimize(gm.data());
  }
  st.SetComplexityN(n);
}

// DenseLu alone, factorisation + one solve of (I − W) z = e, per back end, in padded storage or
// with leading dimension n: the effect of the padding.
void lu_solve(benchmark::State& st, rnn::LuBackend backend, bool padded) {
  const Eigen::Index n = st.range(0);
  const auto s = make_setup(n);
  const auto state = s.network.solve(s.pattern.excitatory, s.pattern.inhibitory);
  const rnn::MatrixD a = identity_minus_w(s, state);
  const rnn::VectorD e = loss_gradient(s, state);
  rnn::MatrixD storage(padded ? rnn::DenseLu::padded_rows(n) : n, n);
  rnn::VectorD z(n);
  for (auto _ : st) {
    storage.topRows(n) = a;
    const rnn::DenseLu lu(storage.topRows(n), backend);
    z = e;
    lu.solve(z);
    benchmark::DoNotOptimize(z.data());
  }
}

void BM_LuEigenPadded(benchmark::State& st) {
  lu_solve(st, rnn::LuBackend::eigen, true);
}
void BM_LuEigenUnpadded(benchmark::State& st) {
  lu_solve(st, rnn::LuBackend::eigen, false);
}
void BM_LuLapackPadded(benchmark::State& st) {
  lu_solve(st, rnn::LuBackend::lapack, true);
}
void BM_LuLapackUnpadded(benchmark::State& st) {
  lu_solve(st, rnn::LuBackend::lapack, false);
}

BENCHMARK(BM_Adjoint)->RangeMultiplier(2)->Range(16, 512)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_AdjointLu)
    ->RangeMultiplier(2)
    ->Range(16, 512)
    ->Unit(benchmark::kMillisecond)
    ->Complexity(benchmark::oNCubed);
BENCHMARK(BM_InverseTimesError)
    ->RangeMultiplier(2)
    ->Range(16, 512)
    ->Unit(benchmark::kMillisecond)
    ->Complexity(benchmark::oNCubed);
BENCHMARK(BM_InverseTimesVectors)->RangeMultiplier(2)->Range(16, 256)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ExplicitInverse)
    ->RangeMultiplier(2)
    ->Range(16, 512)
    ->Unit(benchmark::kMillisecond)
    ->Complexity(benchmark::oNCubed);
BENCHMARK(BM_LuEigenPadded)->RangeMultiplier(2)->Range(64, 512)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_LuEigenUnpadded)->RangeMultiplier(2)->Range(64, 512)->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  // Every form on one thread, whatever OMP_NUM_THREADS says: Eigen's products and OpenBLAS's
  // OpenMP flavour (which follows omp_get_max_threads()).
  Eigen::setNbThreads(1);
  omp_set_num_threads(1);
  if (rnn::lapack_available()) {
    benchmark::RegisterBenchmark("BM_AdjointLapackLu", BM_AdjointLapackLu)
        ->RangeMultiplier(2)
        ->Range(16, 512)
        ->Unit(benchmark::kMillisecond)
        ->Complexity(benchmark::oNCubed);
    benchmark::RegisterBenchmark("BM_LuLapackPadded", BM_LuLapackPadded)
        ->RangeMultiplier(2)
        ->Range(64, 512)
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark("BM_LuLapackUnpadded", BM_LuLapackUnpadded)
        ->RangeMultiplier(2)
        ->Range(64, 512)
        ->Unit(benchmark::kMillisecond);
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
