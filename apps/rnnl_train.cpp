// rnnl-train: train a model by name on MNIST or Fashion-MNIST, print a line per epoch, write
// metrics (JSON Lines / CSV) and a model file. Exit codes: 0 success, 1 runtime error (bad data,
// bad model file, divergence), 2 bad command line (every CLI11 parse error is mapped to 2).
#include <omp.h>

#include <CLI/CLI.hpp>
#include <Eigen/Core>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>

#include <fmt/format.h>

#include "rnn/core/atomic_file.hpp"
#include "rnn/core/error.hpp"
#include "rnn/core/gemm.hpp"
#include "rnn/data/dataset.hpp"
#include "rnn/models/model_file.hpp"
#include "rnn/models/registry.hpp"
#include "rnn/train/metrics_writer.hpp"
#include "rnn/train/optimizer.hpp"
#include "rnn/train/trainer.hpp"

namespace {

// Defaults chosen per model family by measurement (README, "Training defaults"): RNL stacks have
// gradients an order of magnitude smaller than ReLU networks and want a larger Adam step.
struct Recipe {
  float learning_rate;
  float lr_decay;
  int batch;
  float dropout;
  float output_scale = 5.0F;  // logits = scale · q for models whose output is a probability q
};

Recipe default_recipe(const std::string& model) {
  if (model == "rnl_deep" || model == "rnl_hybrid" || model == "cnn_rnl") return {3e-3F, 0.8F, 128, 0.0F};
  if (model == "gelenbe_ff") return {3e-3F, 0.8F, 128, 0.0F, 10.0F};
  if (model == "cnn") return {1e-3F, 0.5F, 32, 0.25F};
  return {1e-3F, 0.7F, 128, 0.0F};
}

struct Cli {
  std::string model = "rnl_deep";
  std::string dataset = "mnist";
  std::string data_dir;
  int epochs = 10;
  std::optional<int> batch;
  std::optional<float> lr;
  std::optional<float> lr_decay;
  std::string optimizer = "adam";
  float momentum = 0.9F;
  std::uint64_t seed = 1;
  int threads = 0;
  std::string out;
  std::string save;
  std::string load;
  bool eval_only = false;
  std::optional<float> output_scale;
  std::optional<float> dropout;
  std::string rnl_init = "scaled";
  float rnl_gain = 0.8F;
  bool seed_init = false;
  std::size_t train_limit = 0;
  bool no_progress = false;
};

// The output paths, checked before any data is read or any epoch runs, so that a long run never
// ends unable to save its results.
void check_output_paths(const Cli& cli) {
  if (!cli.out.empty() && !cli.save.empty() && rnn::same_target(cli.out, cli.save)) {
    throw rnn::Error(fmt::format("--out {} and --save {} name the same file", cli.out, cli.save));
  }
  if (!cli.out.empty() && !cli.load.empty() && rnn::same_target(cli.out, cli.load)) {
    throw rnn::Error(fmt::format("--out {} would replace the model file --load {} reads", cli.out, cli.load));
  }
  if (!cli.out.empty()) rnn::check_writable(cli.out);
  if (!cli.save.empty()) rnn::check_writable(cli.save);
}

int run(const Cli& cli, const CLI::App& app) {
  check_output_paths(cli);
  if (cli.threads > 0) {
    omp_set_num_threads(cli.threads);
    Eigen::setNbThreads(cli.threads);
  }
  const int threads = Eigen::nbThreads();

  // Model: rebuilt from a file, or made by name.
  std::unique_ptr<rnn::Model> model;
  rnn::ModelOptions model_options;
  std::vector<float> params;
  if (!cli.load.empty()) {
    rnn::LoadedModel loaded = rnn::load_model(cli.load);
    model = std::move(loaded.model);
    model_options = loaded.options;
    params = std::move(loaded.parameters);
    if (app.count("--model") > 0 && cli.model != model->name()) {
      throw rnn::Error(fmt::format("{} holds a {} model but --model {} was given", cli.load, model->name(), cli.model));
    }
  } else {
    model_options.output_scale = cli.output_scale.value_or(default_recipe(cli.model).output_scale);
    model_options.dropout = cli.dropout.value_or(default_recipe(cli.model).dropout);
    model_options.rnl.init = cli.rnl_init == "keras" ? rnn::RnlInit::keras_uniform : rnn::RnlInit::scaled_uniform;
    model_options.rnl.gain = cli.rnl_gain;
    model_options.seed_init = cli.seed_init;
    model_options.seed = cli.seed;
    model = rnn::make_model(cli.model, model_options);
    params = model->initial_parameters(cli.seed);
  }

  const std::filesystem::path dir =
      cli.data_dir.empty() ? rnn::default_data_dir(cli.dataset) : std::filesystem::path(cli.data_dir);
  rnn::DatasetPair data;
  try {
    data = rnn::load_idx_dataset(dir, cli.train_limit);
  } catch (const rnn::Error& e) {
    throw rnn::Error(fmt::format("{}\n  {} not found or unreadable in {}; to fetch it: {}", e.what(), cli.dataset,
                                 dir.string(), rnn::fetch_hint(cli.dataset)));
  }
  if (data.train.shape.size() != model->input_shape().size()) {
    throw rnn::Error(fmt::format("{}: images have {} pixels, model {} expects {}", dir.string(),
                                 data.train.shape.size(), model->name(), model->input_shape().size()));
  }

  fmt::print("rnnl-train: {} ({} parameters) on {} ({} train / {} test) from {}, {} thread(s), {} products\n",
             model->name(), model->parameter_count(), cli.dataset, data.train.size(), data.test.size(), dir.string(),
             threads, rnn::gemm_uses_blas() ? "OpenBLAS" : "Eigen");

  if (cli.eval_only) {
    const auto t0 = std::chrono::steady_clock::now();
    const rnn::Evaluation e = rnn::evaluate(*model, params, data.test, 256);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    fmt::print("test loss {:.4f}  test accuracy {:.2f}%  ({:.1f} s)\n", e.loss, 100.0 * e.accuracy, s);
    return 0;
  }

  const Recipe recipe = default_recipe(model->name());
  rnn::OptimizerOptions opt;
  opt.kind = rnn::parse_optimizer(cli.optimizer);
  opt.learning_rate = cli.lr.value_or(opt.kind == rnn::OptimizerKind::sgd ? 0.1F : recipe.learning_rate);
  opt.momentum = cli.momentum;
  auto optimizer = rnn::make_optimizer(opt, model->layout());

  rnn::TrainOptions train_options;
  train_options.epochs = cli.epochs;
  train_options.batch = cli.batch.value_or(recipe.batch);
  train_options.seed = cli.seed;
  train_options.lr_decay = cli.lr_decay.value_or(recipe.lr_decay);
  train_options.train_limit = cli.train_limit;
  train_options.progress = !cli.no_progress;

  std::optional<rnn::MetricsWriter> metrics;
  if (!cli.out.empty()) {
    rnn::MetricsRecord run_fields;
    run_fields.add("model", model->name())
        .add("dataset", cli.dataset)
        .add("optimizer", rnn::optimizer_name(opt.kind))
        .add("batch", train_options.batch)
        .add("seed", cli.seed)
        .add("threads", threads);
    metrics.emplace(cli.out, std::move(run_fields));
  }
  fmt::print("{} lr {} (x{} per epoch), batch {}, dropout {}, {} epochs, seed {}\n", rnn::optimizer_name(opt.kind),
             opt.learning_rate, train_options.lr_decay, train_options.batch, model_options.dropout, cli.epochs,
             cli.seed);

  const auto history = rnn::train(*model, params, *optimizer, data, train_options, [&](const rnn::EpochMetrics& m) {
    fmt::print("epoch {:>3}/{}  loss {:.4f}  train {:6.2f}%  test {:6.2f}%  {:8.0f} samples/s  {:6.1f} s\n", m.epoch,
               cli.epochs, m.train_loss, 100.0 * m.train_accuracy, 100.0 * m.test_accuracy, m.samples_per_second,
               m.seconds);
    std::fflush(stdout);
    if (metrics) metrics->write(m);
  });

  if (!cli.save.empty()) rnn::save_model(cli.save, *model, model_options, params);
  if (!history.empty()) {
    const auto best = std::max_element(history.begin(), history.end(),
                                       [](const auto& a, const auto& b) { return a.test_accuracy < b.test_accuracy; });
    double seconds = 0.0;
    double samples = 0.0;
    for (const auto& m : history) {
      seconds += m.seconds;
      samples += m.samples_per_second * m.seconds;
    }
    fmt::print(
        "summary: {} on {}: final test accuracy {:.2f}% (best {:.2f}% at epoch {}), {:.0f} samples/s, {:.1f} s "
        "training{}{}\n",
        model->name(), cli.dataset, 100.0 * history.back().test_accuracy, 100.0 * best->test_accuracy, best->epoch,
        samples / seconds, seconds, cli.out.empty() ? "" : ", metrics in " + cli.out,
        cli.save.empty() ? "" : ", model in " + cli.save);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Cli cli;
  CLI::App app{
      "Train a Random Neural Network (or a baseline) on MNIST / Fashion-MNIST.\n"
      "Example: rnnl-train --model rnl_deep --dataset mnist --out metrics.jsonl --save model.bin"};
  app.get_formatter()->column_width(34);
  app.add_option("--model", cli.model, "Model to train")
      ->check(CLI::IsMember(rnn::model_names()))
      ->capture_default_str();
  app.add_option("--dataset", cli.dataset, "Dataset name")
      ->check(CLI::IsMember({"mnist", "fashion-mnist"}))
      ->capture_default_str();
  app.add_option("--data-dir", cli.data_dir,
                 "Folder with the four IDX files (raw or .gz); default: $RNNL_DATA_DIR/<dataset>, ./data/<dataset>, "
                 "the source tree's data/<dataset>, /usr/share/datasets/fashion-mnist");
  app.add_option("--epochs", cli.epochs, "Training epochs")->check(CLI::Range(0, 100000))->capture_default_str();
  app.add_option("--batch", cli.batch, "Mini-batch size (default: 32 for cnn, 128 otherwise)")
      ->check(CLI::Range(1, 1 << 20));
  app.add_option("--optimizer", cli.optimizer, "sgd (with --momentum), adam or rmsprop")
      ->check(CLI::IsMember({"sgd", "adam", "rmsprop"}))
      ->capture_default_str();
  app.add_option("--lr", cli.lr, "Learning rate (default: 3e-3 for RNL models, 1e-3 otherwise; 0.1 for sgd)")
      ->check(CLI::Range(1e-9, 1e3));
  app.add_option(
         "--lr-decay", cli.lr_decay,
         "Learning-rate multiplier applied after each epoch (default: 0.8 for RNL models, 0.5 for cnn, 0.7 otherwise)")
      ->check(CLI::Range(1e-6, 1.0));
  app.add_option("--momentum", cli.momentum, "SGD momentum (0: plain SGD)")
      ->check(CLI::Range(0.0, 0.999999))
      ->capture_default_str();
  app.add_option("--seed", cli.seed, "Seed for initialisation, shuffling and dropout")->capture_default_str();
  app.add_option("--threads", cli.threads, "Worker threads (0: all cores)")
      ->check(CLI::Range(0, 1024))
      ->capture_default_str();
  app.add_option("--out", cli.out, "Per-epoch metrics, .jsonl or .csv");
  app.add_option("--save", cli.save, "Write the trained model here (versioned, checksummed)");
  app.add_option("--load", cli.load, "Start from this model file (continue training, or --eval-only)")
      ->check(CLI::ExistingFile);
  app.add_flag("--eval-only", cli.eval_only, "With --load: only report test loss and accuracy");
  app.add_option("--output-scale", cli.output_scale,
                 "Models whose output is a probability q (RNL, gelenbe_ff): logits = scale * q [5; gelenbe_ff 10]")
      ->check(CLI::Range(1e-3, 1e3))
      ->capture_default_str();
  app.add_option("--dropout", cli.dropout,
                 "Dropout rate after hidden dense/RNL layers (default: 0.25 for cnn, 0 otherwise)")
      ->check(CLI::Range(0.0, 0.95));
  app.add_option("--rnl-init", cli.rnl_init, "RNL weights: scaled (U[0, gain/sqrt(fan_in)]) or keras (U[0, 0.2])")
      ->check(CLI::IsMember({"scaled", "keras"}))
      ->capture_default_str();
  app.add_option("--rnl-gain", cli.rnl_gain, "Gain of the scaled RNL initialisation")
      ->check(CLI::Range(1e-3, 100.0))
      ->capture_default_str();
  app.add_flag("--seed-init", cli.seed_init,
               "Dense/conv weights ~ truncated normal(0.1), biases 0.1, as AdaComp's code");
  app.add_option("--train-limit", cli.train_limit, "Use only the first N training images (0: all)")
      ->capture_default_str();
  app.add_flag("--no-progress", cli.no_progress, "Do not draw the progress bar");
  app.callback([&] {
    if (cli.eval_only && cli.load.empty()) throw CLI::ValidationError("--eval-only", "needs --load MODEL");
  });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  try {
    return run(cli, app);
  } catch (const rnn::Error& e) {
    fmt::print(stderr, "rnnl-train: error: {}\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "rnnl-train: unexpected error: {}\n", e.what());
    return 1;
  }
}
