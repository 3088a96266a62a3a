// How much the asynchronous emulator costs beyond the gradients it must compute, measured in one
// process so that the ratios do not depend on the machine's load at another moment:
//   bare        T threads compute U batch-10 gradients of the model (single-threaded kernels, as
//               the emulator's pool runs them), nothing else: the floor for U updates;
//   emulator    run_async in virtual mode for U updates with the trainer's defaults for the model
//               (AdaComp c = 0.01, per-parameter staleness, 100 workers, an evaluation on the whole
//               test set every --eval-every updates), on T threads and on 1 thread.
// Prints updates/s of each, the overhead ratio (emulator updates/s ÷ bare gradients/s, 1 = no
// overhead), the speed-up of T threads over 1, and the peak resident memory of the process.
// Run: build/benchmarks/rnnl_emulator_overhead --data-dir data/mnist [--model cnn --updates 4000]
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <thread>
#include <vector>

#include "rnn/async/runner.hpp"
#include "rnn/core/error.hpp"
#include "rnn/core/execution.hpp"
#include "rnn/data/dataset.hpp"
#include "rnn/models/defaults.hpp"
#include "rnn/models/registry.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// U gradients of batch `batch`, split over `threads` threads, each on consecutive training batches.
double bare_gradients_seconds(const rnn::Model& model, const std::vector<float>& params, const rnn::Dataset& train,
                              std::uint64_t updates, int batch, std::size_t threads) {
  const auto start = Clock::now();
  std::vector<std::thread> pool;
  for (std::size_t t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      const rnn::SingleThreadedKernels single;
      rnn::Workspace workspace = model.make_workspace();
      std::vector<float> grad(params.size());
      rnn::Matrix images;
      std::vector<std::uint8_t> labels;
      std::vector<std::size_t> rows(static_cast<std::size_t>(batch));
      const std::size_t samples = train.labels.size();
      for (std::uint64_t u = t; u < updates; u += threads) {
        for (std::size_t j = 0; j < rows.size(); ++j) rows[j] = (u * rows.size() + j) % samples;
        rnn::gather_batch(train, rows, images, labels);
        (void)model.loss_and_gradient(params, images, labels, grad, workspace);
      }
    });
  }
  for (std::thread& thread : pool) thread.join();
  return seconds_since(start);
}

struct EmulatorRun {
  double seconds = 0.0;
  double accuracy = 0.0;
};

EmulatorRun emulator_seconds(const rnn::Model& model, const std::vector<float>& initial, const rnn::DatasetPair& data,
                             std::uint64_t updates, std::uint64_t eval_every, int eval_batch, std::size_t workers,
                             std::size_t threads) {
  const rnn::AsyncDefaults defaults = rnn::async_defaults(model.name());
  rnn::AsyncOptions o;
  o.workers = workers;
  o.batch = defaults.batch;
  o.compressor.name = "adacomp";
  o.compressor.ratio = 0.01;
  o.server.policy = rnn::StepPolicy::per_parameter_staleness;
  o.server.learning_rate = defaults.scaled_learning_rate;
  o.lr_decay = defaults.lr_decay;
  o.lr_decay_every = defaults.lr_decay_every;
  o.devices.sample_seconds = defaults.sample_seconds;
  o.max_updates = updates;
  o.eval_every = eval_every;
  o.eval_batch = eval_batch;
  o.threads = threads;
  o.progress = false;
  std::vector<float> params = initial;
  const auto start = Clock::now();
  const rnn::AsyncReport report = rnn::run_async(model, params, data, o);
  EmulatorRun run{seconds_since(start), report.points.empty() ? 0.0 : report.points.back().test_accuracy};
  if (report.reason != rnn::StopReason::max_updates) throw rnn::Error("the emulator stopped early: " + report.message);
  return run;
}

double peak_resident_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // Linux: kilobytes
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Emulator overhead: run_async's updates/s against bare gradients on the same threads, in one process"};
  std::string model_name = "cnn";
  std::string data_dir;
  std::uint64_t updates = 4000;
  std::uint64_t eval_every = 1000;
  int eval_batch = rnn::AsyncOptions{}.eval_batch;
  std::size_t workers = 100;
  std::size_t threads = 2;
  bool skip_single = false;
  app.add_option("--model", model_name, "Model")->check(CLI::IsMember(rnn::model_names()));
  app.add_option("--data-dir", data_dir, "MNIST folder (default: the trainer's search path)");
  app.add_option("--updates", updates, "Updates (and bare gradients) per measurement")->check(CLI::Range(1, 10000000));
  app.add_option("--eval-every", eval_every, "Evaluate on the test set every N updates (0: start and end only)");
  app.add_option("--eval-batch", eval_batch, "Test images per evaluation batch (0: the workers' batch)")
      ->check(CLI::Range(0, 100000));
  app.add_option("--workers", workers, "Emulated workers")->check(CLI::Range(1, 1000000));
  app.add_option("--threads", threads, "Threads of the measured runs")->check(CLI::Range(1, 1024));
  app.add_flag("--skip-single", skip_single, "Do not measure the emulator on 1 thread");
  CLI11_PARSE(app, argc, argv);

  try {
    const rnn::DatasetPair data =
        rnn::load_idx_dataset(data_dir.empty() ? rnn::default_data_dir("mnist") : std::filesystem::path(data_dir));
    rnn::ModelOptions options = rnn::default_model_options(model_name);
    options.seed_init = rnn::async_defaults(model_name).seed_init;
    const auto model = rnn::make_model(model_name, options);
    const std::vector<float> initial = model->initial_parameters(1);
    const int batch = rnn::async_defaults(model_name).batch;

    std::printf("model %s, %llu updates, batch %d, %zu workers, AdaComp c = 0.01, eval every %llu, %zu threads\n",
                model_name.c_str(), static_cast<unsigned long long>(updates), batch, workers,
                static_cast<unsigned long long>(eval_every), threads);
    const double bare = bare_gradients_seconds(*model, initial, data.train, updates, batch, threads);
    const EmulatorRun emulated =
        emulator_seconds(*model, initial, data, updates, eval_every, eval_batch, workers, threads);
    const auto per_second = [&](double s) { return static_cast<double>(updates) / s; };
    std::printf("bare gradients, %zu threads:  %8.2f s  %8.1f gradients/s\n", threads, bare, per_second(bare));
    std::printf("emulator, %zu threads:        %8.2f s  %8.1f updates/s  (test accuracy %.4f)\n", threads,
                emulated.seconds, per_second(emulated.seconds), emulated.accuracy);
    std::printf("overhead ratio (emulator / bare, 1 = none): %.3f\n", bare / emulated.seconds);
    if (!skip_single && threads > 1) {
      const EmulatorRun single = emulator_seconds(*model, initial, data, updates, eval_every, eval_batch, workers, 1);
      std::printf("emulator, 1 thread:          %8.2f s  %8.1f updates/s  (test accuracy %.4f)\n", single.seconds,
                  per_second(single.seconds), single.accuracy);
      std::printf("speed-up of %zu threads over 1: %.2fx\n", threads, single.seconds / emulated.seconds);
    }
    std::printf("peak resident memory: %.0f MiB\n", peak_resident_mib());
  } catch (const rnn::Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
