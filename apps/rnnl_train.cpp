// rnnl-train: train a model by name on MNIST or Fashion-MNIST, print a line per epoch, write
// metrics (JSON Lines / CSV) and a model file. Exit codes: 0 success, 1 runtime error (bad data,
// bad model file, divergence), 2 bad command line: every CLI11 parse error, a value that is not a
// plain decimal number in range (apps/option_checks.hpp), and an option that would have no effect.
#include <omp.h>

#include <CLI/CLI.hpp>
#include <Eigen/Core>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <map>
#include <optional>
#include <stdexcept>
#include <string_view>

#include <fmt/format.h>

#include "async_command.hpp"
#include "option_checks.hpp"
#include "rnn/core/atomic_file.hpp"
#include "rnn/core/error.hpp"
#include "rnn/core/gemm.hpp"
#include "rnn/data/dataset.hpp"
#include "rnn/models/defaults.hpp"
#include "rnn/models/model_file.hpp"
#include "rnn/models/registry.hpp"
#include "rnn/train/metrics_writer.hpp"
#include "rnn/train/optimizer.hpp"
#include "rnn/train/trainer.hpp"

namespace {

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
  bool dry_run = false;
  std::string trainer = "sync";
  rnn::app::AsyncCli async;
};

using rnn::cli::UsageError;

// "32 for cnn; 128 otherwise": a per-model default (rnn/models/defaults.hpp) for --help, so the
// help text cannot drift from the values used.
template <typename Defaults, typename T>
std::string per_model_default(T Defaults::*field) {
  std::map<std::string, std::vector<std::string>> models_by_value;
  for (const std::string& name : rnn::model_names()) {
    if constexpr (std::is_same_v<Defaults, rnn::AsyncDefaults>) {
      models_by_value[fmt::format("{}", rnn::async_defaults(name).*field)].push_back(name);
    } else {
      models_by_value[fmt::format("{}", rnn::training_defaults(name).*field)].push_back(name);
    }
  }
  const auto most_common =
      std::max_element(models_by_value.begin(), models_by_value.end(),
                       [](const auto& a, const auto& b) { return a.second.size() < b.second.size(); });
  std::string text;
  for (auto it = models_by_value.begin(); it != models_by_value.end(); ++it) {
    if (it != most_common) text += fmt::format("{} for {}; ", it->first, fmt::join(it->second, ", "));
  }
  return text + most_common->first + (models_by_value.size() > 1 ? " otherwise" : "");
}

bool has_layer(const rnn::Model& model, std::initializer_list<std::string_view> kinds) {
  return std::any_of(model.layers().begin(), model.layers().end(), [&](const auto& layer) {
    return std::find(kinds.begin(), kinds.end(), layer->kind()) != kinds.end();
  });
}

// A model option given for a model without the part it sets would be silently ignored.
void refuse_unused_model_options(const CLI::App& app, const rnn::Model& model, const rnn::ModelOptions& options) {
  const auto refuse = [&](std::string_view option, std::string_view missing) {
    throw UsageError(option,
                     fmt::format("model {} has no {}, so the option would have no effect", model.name(), missing));
  };
  if (app.count("--output-scale") > 0 && !has_layer(model, {"scale"})) {
    refuse("--output-scale", "probability output to scale");
  }
  if (app.count("--dropout") > 0 && options.dropout > 0.0F && !has_layer(model, {"dropout"})) {
    refuse("--dropout", "dropout layer");
  }
  if (app.count("--rnl-init") > 0 && !has_layer(model, {"rnl"})) refuse("--rnl-init", "Random Neural Layer");
  if (app.count("--rnl-gain") > 0 && !has_layer(model, {"rnl"})) refuse("--rnl-gain", "Random Neural Layer");
  if (app.count("--seed-init") > 0 && !has_layer(model, {"dense", "conv2d"})) {
    refuse("--seed-init", "dense or convolution layer");
  }
}

// Options that parse but cannot apply together. Each would otherwise be silently ignored.
void check_combinations(const Cli& cli, const CLI::App& app) {
  // Each trainer refuses the other's options rather than ignore them.
  if (cli.trainer == "async") {
    for (const char* option : {"--epochs", "--optimizer", "--momentum", "--eval-only"}) {
      if (app.count(option) > 0)
        throw CLI::ValidationError(option,
                                   "applies to --trainer sync only (the asynchronous trainer counts updates; "
                                   "its server takes --server-optimizer and --server-momentum)");
    }
  } else {
    for (const std::string& option : rnn::app::async_only_options()) {
      if (app.count(option) > 0) throw CLI::ValidationError(option, "applies to --trainer async only");
    }
  }
  if (cli.eval_only && cli.load.empty()) throw CLI::ValidationError("--eval-only", "needs --load MODEL");
  if (cli.eval_only) {
    // Evaluation writes nothing and trains nothing.
    for (const char* option : {"--save", "--out", "--epochs", "--batch", "--optimizer", "--lr", "--lr-decay",
                               "--momentum", "--seed", "--train-limit"}) {
      if (app.count(option) > 0) {
        throw CLI::ValidationError(option, "has no effect with --eval-only, which only evaluates the loaded model");
      }
    }
  }
  if (!cli.load.empty()) {
    for (const char* option : {"--dropout", "--output-scale", "--rnl-init", "--rnl-gain", "--seed-init"}) {
      if (app.count(option) > 0) {
        throw CLI::ValidationError(
            option, fmt::format("cannot change a loaded model: the model file {} fixes its dropout, output scale and "
                                "initialisation",
                                cli.load));
      }
    }
  }
  for (const auto& [option, value] :
       {std::pair{"--data-dir", &cli.data_dir}, std::pair{"--out", &cli.out}, std::pair{"--save", &cli.save}}) {
    if (app.count(option) > 0 && value->empty()) throw CLI::ValidationError(option, "needs a path, got an empty one");
  }
  if (app.count("--momentum") > 0 && cli.optimizer != "sgd") {
    throw CLI::ValidationError("--momentum", fmt::format("applies only to --optimizer sgd, not {}", cli.optimizer));
  }
  if (app.count("--rnl-gain") > 0 && cli.rnl_init == "keras") {
    throw CLI::ValidationError("--rnl-gain", "applies only to --rnl-init scaled (keras draws from U[0, 0.2])");
  }
}

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
    // (Not Eigen::setNbThreads: it would fix the thread count for every thread of the process, the
    // asynchronous trainer's pool included; Eigen follows each thread's OpenMP limit by default.)
    omp_set_num_threads(cli.threads);
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
    model_options = rnn::default_model_options(cli.model);
    if (cli.output_scale) model_options.output_scale = *cli.output_scale;
    if (cli.dropout) model_options.dropout = *cli.dropout;
    model_options.rnl.init = cli.rnl_init == "keras" ? rnn::RnlInit::keras_uniform : rnn::RnlInit::scaled_uniform;
    model_options.rnl.gain = cli.rnl_gain;
    // The asynchronous trainer starts the seed CNN from the seed paper's initialisation.
    model_options.seed_init = cli.seed_init || (cli.trainer == "async" && rnn::async_defaults(cli.model).seed_init);
    model_options.seed = cli.seed;
    model = rnn::make_model(cli.model, model_options);
    refuse_unused_model_options(app, *model, model_options);
    params = model->initial_parameters(cli.seed);
  }

  const std::filesystem::path dir =
      cli.data_dir.empty() ? rnn::default_data_dir(cli.dataset) : std::filesystem::path(cli.data_dir);
  rnn::DatasetPair data;
  try {
    data = rnn::load_idx_dataset(dir, cli.train_limit);
  } catch (const rnn::Error& e) {
    throw rnn::Error(fmt::format("{} (to fetch {}: {}{})", e.what(), cli.dataset, rnn::fetch_hint(cli.dataset),
                                 cli.data_dir.empty() ? "; or give --data-dir DIR" : ""));
  }
  // train() and evaluate() check this too; checked here, it fails before anything is printed.
  if (!cli.eval_only) rnn::check_fits(*model, data.train);
  rnn::check_fits(*model, data.test);

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

  if (cli.trainer == "async") {
    rnn::app::AsyncCommon common;
    common.dataset = cli.dataset;
    common.batch = cli.batch;
    common.lr = cli.lr;
    common.lr_decay = cli.lr_decay;
    common.seed = cli.seed;
    common.threads = cli.threads;
    common.out = cli.out;
    common.progress = !cli.no_progress;
    common.dry_run = cli.dry_run;
    const int code = rnn::app::run_async_command(cli.async, common, *model, params, data);
    if (!cli.save.empty() && !cli.dry_run) rnn::save_model(cli.save, *model, model_options, params);
    return code;
  }

  const rnn::TrainingDefaults defaults = rnn::training_defaults(model->name());
  rnn::OptimizerOptions opt;
  opt.kind = rnn::parse_optimizer(cli.optimizer);
  opt.learning_rate =
      cli.lr.value_or(opt.kind == rnn::OptimizerKind::sgd ? defaults.sgd_learning_rate : defaults.learning_rate);
  opt.momentum = cli.momentum;
  auto optimizer = rnn::make_optimizer(opt, model->layout());

  rnn::TrainOptions train_options;
  train_options.epochs = cli.epochs;
  train_options.batch = cli.batch.value_or(defaults.batch);
  train_options.seed = cli.seed;
  train_options.lr_decay = cli.lr_decay.value_or(defaults.lr_decay);
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
  if (cli.dry_run) return 0;

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
  using rnn::TrainingDefaults;
  using rnn::cli::FiniteRange;
  using rnn::cli::WholeNumber;
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
  app.add_option("--epochs", cli.epochs, "Training epochs")->check(WholeNumber(0, 100000))->capture_default_str();
  app.add_option("--batch", cli.batch,
                 "Mini-batch size (default: " + per_model_default(&TrainingDefaults::batch) +
                     "; async: " + per_model_default(&rnn::AsyncDefaults::batch) + ")")
      ->check(WholeNumber(1, 1 << 20));
  app.add_option("--optimizer", cli.optimizer, "sgd (with --momentum), adam or rmsprop")
      ->check(CLI::IsMember({"sgd", "adam", "rmsprop"}))
      ->capture_default_str();
  app.add_option("--lr", cli.lr,
                 "Learning rate (default with adam or rmsprop: " + per_model_default(&TrainingDefaults::learning_rate) +
                     "; with sgd: " + per_model_default(&TrainingDefaults::sgd_learning_rate) +
                     "; async, the server's sgd or momentum step with staleness scaling: " +
                     per_model_default(&rnn::AsyncDefaults::scaled_learning_rate) +
                     ", with the plain step: " + per_model_default(&rnn::AsyncDefaults::plain_learning_rate) +
                     "; its adam step with staleness scaling: " +
                     per_model_default(&rnn::AsyncDefaults::adam_scaled_learning_rate) +
                     ", with the plain step: " + per_model_default(&rnn::AsyncDefaults::adam_plain_learning_rate) + ")")
      ->check(FiniteRange(1e-9, 1e3));
  app.add_option("--lr-decay", cli.lr_decay,
                 "Learning-rate multiplier applied after each epoch (default: " +
                     per_model_default(&TrainingDefaults::lr_decay) + "); async: every --lr-decay-every updates " +
                     "(default " + per_model_default(&rnn::AsyncDefaults::lr_decay) + " every " +
                     per_model_default(&rnn::AsyncDefaults::lr_decay_every) + ")")
      ->check(FiniteRange(1e-6, 1.0));
  app.add_option("--momentum", cli.momentum, "SGD momentum (0: plain SGD); only with --optimizer sgd")
      ->check(FiniteRange(0.0, 0.999999))
      ->capture_default_str();
  app.add_option("--seed", cli.seed, "Seed for initialisation, shuffling and dropout")
      ->check(WholeNumber(0, std::numeric_limits<std::uint64_t>::max()))
      ->capture_default_str();
  app.add_option("--threads", cli.threads, "Worker threads (0: all cores)")
      ->check(WholeNumber(0, 1024))
      ->capture_default_str();
  app.add_option("--out", cli.out, "Per-epoch metrics, .jsonl or .csv");
  app.add_option("--save", cli.save, "Write the trained model here (versioned, checksummed)");
  app.add_option("--load", cli.load, "Start from this model file (continue training, or --eval-only)")
      ->check(CLI::ExistingFile);
  app.add_flag("--eval-only", cli.eval_only, "With --load: only report test loss and accuracy");
  app.add_option("--output-scale", cli.output_scale,
                 "Models whose output is a probability q (RNL, gelenbe_ff): logits = scale * q (default: " +
                     per_model_default(&TrainingDefaults::output_scale) + ")")
      ->check(FiniteRange(1e-3, 1e3));
  app.add_option(
         "--dropout", cli.dropout,
         "Dropout rate after hidden dense/RNL layers (default: " + per_model_default(&TrainingDefaults::dropout) + ")")
      ->check(FiniteRange(0.0, 0.95));
  app.add_option("--rnl-init", cli.rnl_init, "RNL weights: scaled (U[0, gain/sqrt(fan_in)]) or keras (U[0, 0.2])")
      ->check(CLI::IsMember({"scaled", "keras"}))
      ->capture_default_str();
  app.add_option("--rnl-gain", cli.rnl_gain, "Gain of the scaled RNL initialisation")
      ->check(FiniteRange(1e-3, 100.0))
      ->capture_default_str();
  app.add_flag("--seed-init", cli.seed_init,
               "Dense/conv weights ~ truncated normal(0.1), biases 0.1, as AdaComp's code");
  app.add_option("--train-limit", cli.train_limit, "Use only the first N training images (0: all)")
      ->check(WholeNumber(0, std::numeric_limits<std::size_t>::max()))
      ->capture_default_str();
  app.add_flag("--no-progress", cli.no_progress, "Do not draw the progress bar");
  app.add_flag("--dry-run", cli.dry_run,
               "Check the options, the model and the data, print what would run, and exit without training or writing");
  app.add_option("--trainer", cli.trainer,
                 "sync: data-parallel training on this machine; async: a parameter server and many emulated workers")
      ->check(CLI::IsMember({"sync", "async"}))
      ->capture_default_str();
  rnn::app::add_async_options(app, cli.async);
  app.callback([&] { check_combinations(cli, app); });
  // One line, in the form of the runtime errors.
  app.failure_message([](const CLI::App*, const CLI::Error& e) {
    return fmt::format("rnnl-train: error: {} (see --help)\n", e.what());
  });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  try {
    return run(cli, app);
  } catch (const UsageError& e) {
    fmt::print(stderr, "rnnl-train: error: {} (see --help)\n", e.what());
    return 2;
  } catch (const rnn::Error& e) {
    fmt::print(stderr, "rnnl-train: error: {}\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "rnnl-train: unexpected error: {}\n", e.what());
    return 1;
  }
}
