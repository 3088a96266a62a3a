// Which of this machine's two placements a throughput measurement ran in.
//
// On the shared 2-vCPU machines this project is measured on (Debian 12 VMs, the CI machine type),
// the hypervisor sometimes runs the two vCPUs on cores that share a cache and sometimes on cores
// that do not, for minutes at a time. Data-parallel training moves every parameter between the
// cores at every step (one thread's optimizer writes a row, the other thread's forward pass reads
// it). Without a shared cache, `rnl_deep` trains at 19-20 k samples/s if the readers keep those
// rows cached and at 26-27 k with the trainer's eviction of the rows a thread reads but does not
// own (rnn/core/cache.hpp), against 29-31 k with a shared cache (2026-11-28; docs/performance.md).
// Compute-bound code does not change.
//
// The probe times what differs: rnl_deep's Adam pass, each of two threads updating its half of
// the parameters block by block as the trainer does, (a) on its own and (b) right after the other
// thread has read that half, as a forward pass does. (b)/(a) is about 1 when the cores share a
// cache and 4-5 when they do not. Run it next to a benchmark to label the benchmark's numbers.
//
//   rnnl_probe_cores [--passes N] [--json]
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "rnn/models/registry.hpp"
#include "rnn/train/optimizer.hpp"

namespace {

constexpr std::size_t kBlock = 4096;  // the trainer's split-gradient block (kSplitGradientBlock)
constexpr std::size_t kLine = 16;     // floats per cache line

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  int passes = 20;
  bool json = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--json") {
      json = true;
    } else if (arg == "--passes" && i + 1 < argc) {
      passes = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr,
                   "usage: rnnl_probe_cores [--passes N] [--json]\n"
                   "Times rnl_deep's Adam pass on two threads alone and after the other thread read the\n"
                   "parameters: a ratio near 1 means the two cores share a cache, 4-5 that they do not.\n");
      return arg == "--help" || arg == "-h" ? 0 : 2;
    }
  }
  if (passes < 1 || passes > 100000) {
    std::fprintf(stderr, "rnnl_probe_cores: --passes must be in [1, 100000]\n");
    return 2;
  }
  if (omp_get_max_threads() < 2) {
    std::printf(json ? "{\"skipped\": \"needs 2 threads\"}\n" : "rnnl_probe_cores: needs 2 threads, skipped\n");
    return 0;
  }

  const auto model = rnn::make_model("rnl_deep");
  std::vector<float> params = model->initial_parameters(1);
  rnn::OptimizerOptions options;
  options.learning_rate = 1e-6F;  // the values do not matter; keep them finite and non-negative
  const auto optimizer = rnn::make_optimizer(options, model->layout());
  const std::size_t n = params.size();
  const std::vector<float> gradient(kBlock, 1e-3F);

  std::vector<double> alone;
  std::vector<double> after_read;
  int team = 0;
  volatile float sink = 0.0F;  // keeps the reading pass
  for (int pass = 0; pass < 2 * passes + 2; ++pass) {
    const bool shared = pass % 2 == 1;
    double seconds = 0.0;
    optimizer->begin_step();
#pragma omp parallel num_threads(2)
    {
#pragma omp master
      team = omp_get_num_threads();
      const auto t = static_cast<std::size_t>(omp_get_thread_num());
      const std::size_t first = n * t / 2;
      const std::size_t last = n * (t + 1) / 2;
      if (shared) {  // read the other thread's half, one load per cache line
        const std::size_t other_first = n * (1 - t) / 2;
        const std::size_t other_last = n * (2 - t) / 2;
        float sum = 0.0F;
        for (std::size_t i = other_first; i < other_last; i += kLine) sum += params[i];
        if (sum < 0.0F) sink = sum;  // (never: parameters are non-negative)
      }
#pragma omp barrier
#pragma omp master
      seconds = -omp_get_wtime();
#pragma omp barrier
      for (std::size_t b = first; b < last; b += kBlock) {
        const std::size_t end = std::min(last, b + kBlock);
        optimizer->update_block(params, b, std::span(gradient.data(), end - b));
      }
#pragma omp barrier
#pragma omp master
      seconds += omp_get_wtime();
    }
    if (team != 2) {  // (OMP_THREAD_LIMIT, OMP_DYNAMIC: half the parameters would go untouched)
      std::printf(json ? "{\"skipped\": \"got %d threads, needs 2\"}\n"
                       : "rnnl_probe_cores: got %d threads, needs 2; skipped\n",
                  team);
      return 0;
    }
    if (pass >= 2) (shared ? after_read : alone).push_back(seconds * 1e3);  // (first two: warm-up)
  }
  const double alone_ms = median(alone);
  const double shared_ms = median(after_read);
  const double ratio = shared_ms / alone_ms;
  const bool share_cache = ratio < 1.5;
  if (json) {
    fmt::print("{{\"alone_ms\": {:.3f}, \"after_read_ms\": {:.3f}, \"ratio\": {:.2f}, \"cores_share_cache\": {}}}\n",
               alone_ms, shared_ms, ratio, share_cache ? "true" : "false");
  } else {
    fmt::print(
        "Adam pass over rnl_deep's {} parameters, 2 threads (median of {}): {:.2f} ms alone, {:.2f} ms right "
        "after the other thread read them (x{:.2f}).\n{}\n",
        n, passes, alone_ms, shared_ms, ratio,
        share_cache ? "The two cores share a cache: data-parallel training runs at its full speed."
                    : "The two cores share no cache: every parameter written by one core and read by the other "
                      "costs a cross-core round trip; rnnl's data-parallel training runs 10-20 % slower.");
  }
  return 0;
}
