#include <doctest/doctest.h>

#include <omp.h>

#include <cmath>
#include <limits>
#include <string>

#include "rnn/core/error.hpp"
#include "rnn/models/registry.hpp"
#include "rnn/train/trainer.hpp"
#include "train/synthetic.hpp"

namespace rnn {
namespace {

DatasetPair synthetic_pair() {
  return {test::synthetic_digits(1500, 1), test::synthetic_digits(500, 2)};
}

std::vector<EpochMetrics> run(const std::string& name, std::vector<float>& params, const DatasetPair& data,
                              OptimizerKind kind, float lr) {
  const auto model = make_model(name);
  params = model->initial_parameters(5);
  auto opt = make_optimizer(OptimizerOptions{kind, lr}, model->layout());
  TrainOptions options;
  options.epochs = 2;
  options.batch = 32;
  options.progress = false;
  return train(*model, params, *opt, data, options);
}

// `params` after `epochs` epochs of train() with batches of `batch` rows on a team of `threads`.
std::vector<float> train_on_threads(const Model& model, std::vector<float> params, const OptimizerOptions& optimizer,
                                    const DatasetPair& data, int epochs, int batch, int threads) {
  auto opt = make_optimizer(optimizer, model.layout());
  TrainOptions options;
  options.epochs = epochs;
  options.batch = batch;
  options.progress = false;
  const int saved = omp_get_max_threads();
  omp_set_num_threads(threads);
  train(model, params, *opt, data, options);
  omp_set_num_threads(saved);
  return params;
}

// How many entries of `got` differ from `want` by more than `relative` times the distance `want`
// moved from `start`, plus `absolute`.
std::size_t entries_off(std::span<const float> got, std::span<const float> want, std::span<const float> start,
                        float relative, float absolute) {
  std::size_t off = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    if (std::abs(got[i] - want[i]) > relative * std::abs(want[i] - start[i]) + absolute) ++off;
  }
  return off;
}

}  // namespace

TEST_CASE("each model family learns a synthetic task and RNL weights stay non-negative") {
  const DatasetPair data = synthetic_pair();
  for (const auto& recipe :
       {std::tuple{"rnl_deep", OptimizerKind::adam, 2e-3F}, std::tuple{"rnl_hybrid", OptimizerKind::rmsprop, 1e-3F},
        std::tuple{"mlp", OptimizerKind::sgd, 0.05F}}) {
    // (Plain variables: clang 14 cannot capture structured bindings, which CAPTURE does.)
    const char* name = std::get<0>(recipe);
    const OptimizerKind kind = std::get<1>(recipe);
    const float lr = std::get<2>(recipe);
    CAPTURE(name);
    std::vector<float> params;
    const auto history = run(name, params, data, kind, lr);
    REQUIRE(history.size() == 2);
    CHECK(history.back().test_accuracy > 0.9);
    CHECK(history.back().train_loss < history.front().train_loss);
    const auto model = make_model(name);
    for (const auto& s : model->layout().segments()) {
      if (!s.non_negative) continue;
      for (std::size_t i = s.offset; i < s.offset + s.size(); ++i) REQUIRE(params[i] >= 0.0F);
    }
  }
}

TEST_CASE("per-layer updates on 3 threads equal per-shard gradients and one optimizer step") {
  // Seven copies of one sample, so the shuffle cannot matter. Batches of 3 rows give 3, 3 and 1
  // rows: in the last batch two of the three threads have no rows and still join every update.
  const Dataset one = test::synthetic_digits(1, 4);
  DatasetPair data;
  data.train = one;
  data.train.images = one.images.replicate(7, 1);
  data.train.labels.assign(7, one.labels[0]);
  data.test = one;
  // SGD with a large step shows a share's weight directly in the parameters; Adam, which is blind
  // to a gradient's scale, checks that every layer's state is updated once per step.
  for (const OptimizerOptions& optimizer_options :
       {OptimizerOptions{OptimizerKind::adam, 1e-3F}, OptimizerOptions{OptimizerKind::sgd, 0.5F}}) {
    for (const std::string name : {"rnl_deep", "mlp", "cnn_rnl"}) {
      CAPTURE(name);
      CAPTURE(optimizer_name(optimizer_options.kind));
      const auto model = make_model(name);
      const std::vector<float> initial = model->initial_parameters(9);

      const std::vector<float> trained = train_on_threads(*model, initial, optimizer_options, data, 1, 3, 3);

      // The reference: each shard's whole gradient in turn, then one whole step. Its kernels run
      // inside a 3-thread region as the trainer's do (serially, with the same GEMM blocking).
      std::vector<float> reference = initial;
      auto reference_optimizer = make_optimizer(optimizer_options, model->layout());
      std::vector<Workspace> workspaces;
      std::vector<std::vector<float>> grads;
      for (std::uint64_t t = 0; t < 3; ++t) {
        workspaces.push_back(model->make_workspace(t));
        grads.emplace_back(model->parameter_count());
      }
      for (const std::size_t count : {3, 3, 1}) {
        std::vector<GradientShare> shares;
#pragma omp parallel num_threads(3)
#pragma omp single
        for (std::size_t t = 0; t < 3; ++t) {
          const std::size_t rows = count * (t + 1) / 3 - count * t / 3;
          if (rows == 0) continue;
          const Matrix x = one.images.replicate(static_cast<Eigen::Index>(rows), 1);
          const std::vector<std::uint8_t> labels(rows, one.labels[0]);
          model->loss_and_gradient(reference, x, labels, grads[t], workspaces[t]);
          shares.push_back({grads[t].data(), static_cast<float>(rows) / static_cast<float>(count)});
        }
        reference_optimizer->step(reference, shares);
      }
      // Layers that split their gradient by parameter rows sum the shards in a different order of
      // operations than the reference, so the two agree to rounding, far below any update.
      CHECK(entries_off(trained, reference, initial, 1e-4F, 1e-7F) == 0);
      CHECK(trained != initial);
    }
  }
}

TEST_CASE("a data-parallel step over distinct samples in uneven shares is one step on the batch's mean gradient") {
  // Seven different samples in one batch on 3 threads: shares of 2, 2 and 3 rows, so each shard's
  // inputs, states and weights differ, and a split gradient that read the wrong shard, or weighted
  // them equally, would not match. The batch is the whole training set, so the shuffle only
  // reorders it, which changes the mean gradient by rounding alone.
  DatasetPair data;
  data.train = test::synthetic_digits(7, 12);
  data.test = test::synthetic_digits(3, 13);
  // SGD, whose step is linear in the gradient: Adam's first steps, g / (|g| + ε), turn the rounding
  // of a gradient that is nearly zero into a full-size step of either sign.
  for (const OptimizerOptions& optimizer_options :
       {OptimizerOptions{OptimizerKind::sgd, 0.5F, 0.0F}, OptimizerOptions{OptimizerKind::sgd, 0.1F, 0.9F}}) {
    for (const std::string name : {"rnl_deep", "mlp", "cnn_rnl"}) {
      CAPTURE(name);
      CAPTURE(optimizer_options.momentum);
      const auto model = make_model(name);
      const std::vector<float> initial = model->initial_parameters(3);
      const std::vector<float> trained = train_on_threads(*model, initial, optimizer_options, data, 2, 7, 3);

      std::vector<float> reference = initial;
      auto reference_optimizer = make_optimizer(optimizer_options, model->layout());
      Workspace ws = model->make_workspace();
      std::vector<float> grad(model->parameter_count());
      for (int step = 0; step < 2; ++step) {
        model->loss_and_gradient(reference, data.train.images, data.train.labels, grad, ws);
        reference_optimizer->step(reference, grad);
      }
      CHECK(entries_off(trained, reference, initial, 1e-3F, 1e-6F) == 0);
      CHECK(trained != initial);
    }
  }
}

TEST_CASE("a seed reproduces a run exactly") {
  const DatasetPair data = synthetic_pair();
  std::vector<float> a;
  std::vector<float> b;
  const auto ha = run("rnl_deep", a, data, OptimizerKind::adam, 2e-3F);
  const auto hb = run("rnl_deep", b, data, OptimizerKind::adam, 2e-3F);
  CHECK(a == b);
  CHECK(ha.back().test_loss == hb.back().test_loss);
}

TEST_CASE("a NaN loss stops training with an error naming the epoch") {
  const DatasetPair data = synthetic_pair();
  const auto model = make_model("mlp");
  auto params = model->initial_parameters(5);
  params[3] = std::nanf("");
  auto opt = make_optimizer(OptimizerOptions{}, model->layout());
  TrainOptions options;
  options.progress = false;
  const std::vector<float> before = params;
  try {
    train(*model, params, *opt, data, options);
    FAIL("training with a NaN parameter did not fail");
  } catch (const Error& e) {
    const std::string message = e.what();
    CHECK(message.find("epoch 1") != std::string::npos);
    CHECK(message.find("learning rate") != std::string::npos);
    CHECK(message.find("--") == std::string::npos);  // the library names no command-line flag
  }
  // The failed step was not applied: every other parameter is as it was, and finite.
  for (std::size_t i = 0; i < params.size(); ++i) {
    if (i != 3) REQUIRE(params[i] == before[i]);
  }
}

TEST_CASE("a label outside the model's classes is refused before training") {
  DatasetPair data = synthetic_pair();
  data.train.labels[17] = 10;
  const auto model = make_model("mlp");
  auto params = model->initial_parameters(5);
  auto opt = make_optimizer(OptimizerOptions{}, model->layout());
  TrainOptions options;
  options.progress = false;
  CHECK_THROWS_WITH_AS(train(*model, params, *opt, data, options), doctest::Contains("label 10"), Error);
}

TEST_CASE("a learning-rate decay that is not a positive finite number is refused before training") {
  const DatasetPair data = synthetic_pair();
  const auto model = make_model("mlp");
  auto opt = make_optimizer(OptimizerOptions{}, model->layout());
  for (const float decay : {std::nanf(""), std::numeric_limits<float>::infinity(), 0.0F, -0.5F}) {
    CAPTURE(decay);
    auto params = model->initial_parameters(5);
    const std::vector<float> before = params;
    TrainOptions options;
    options.progress = false;
    options.lr_decay = decay;
    CHECK_THROWS_WITH_AS(train(*model, params, *opt, data, options), doctest::Contains("decay"), Error);
    CHECK(params == before);
  }
}

// 14x56 images have 784 pixels, as 28x28 ones do: only the shape tells them apart.
Dataset reshaped(Dataset d, Shape shape, const char* source) {
  d.shape = shape;
  d.source = source;
  return d;
}

TEST_CASE("images whose shape is not the model's input are refused by train() and evaluate(), naming both shapes") {
  const DatasetPair good = synthetic_pair();
  for (const std::string name : {"cnn", "mlp", "rnl_deep"}) {
    CAPTURE(name);
    const auto model = make_model(name);
    auto params = model->initial_parameters(5);
    const std::vector<float> before = params;
    auto opt = make_optimizer(OptimizerOptions{}, model->layout());
    TrainOptions options;
    options.epochs = 1;
    options.progress = false;

    DatasetPair wide_train = good;
    wide_train.train = reshaped(good.train, {14, 56, 1}, "wide/train-images-idx3-ubyte");
    const std::string wanted = "wide/train-images-idx3-ubyte: images are 14x56x1 (rows x cols x channels) but model " +
                               name + " takes 28x28x1";
    CHECK_THROWS_WITH_AS(train(*model, params, *opt, wide_train, options), wanted.c_str(), Error);
    DatasetPair wide_test = good;
    wide_test.test = reshaped(good.test, {14, 56, 1}, "wide/t10k-images-idx3-ubyte");
    // Refused before the first step, not after an epoch of training.
    CHECK_THROWS_WITH_AS(train(*model, params, *opt, wide_test, options),
                         doctest::Contains("wide/t10k-images-idx3-ubyte: images are 14x56x1"), Error);
    CHECK(params == before);
    CHECK_THROWS_WITH_AS((void)evaluate(*model, params, wide_test.test, 64), doctest::Contains("takes 28x28x1"), Error);
    // A dataset built in memory has no file to name.
    CHECK_THROWS_WITH_AS((void)evaluate(*model, params, reshaped(good.test, {28, 28, 3}, ""), 64),
                         doctest::Contains("in-memory dataset: images are 28x28x3"), Error);
  }
}

TEST_CASE("evaluate() refuses a bad label or a label count that differs from the image count") {
  const auto model = make_model("mlp");
  const auto params = model->initial_parameters(5);
  Dataset bad_label = test::synthetic_digits(300, 2);
  bad_label.labels[250] = 10;  // (thrown inside the parallel region, this would end the program)
  CHECK_THROWS_WITH_AS((void)evaluate(*model, params, bad_label, 64), doctest::Contains("label 10 of image 250"),
                       Error);
  Dataset short_labels = test::synthetic_digits(300, 2);
  short_labels.labels.pop_back();
  CHECK_THROWS_WITH_AS((void)evaluate(*model, params, short_labels, 64), doctest::Contains("300 images but 299 labels"),
                       Error);
  Dataset narrow = test::synthetic_digits(300, 2);
  narrow.images.conservativeResize(300, 700);
  CHECK_THROWS_WITH_AS((void)evaluate(*model, params, narrow, 64), doctest::Contains("hold 700"), Error);
}

}  // namespace rnn

namespace rnn {

TEST_CASE("evaluation gives the same answer on one thread and on several") {
  const Dataset test_set = test::synthetic_digits(700, 3);
  const auto model = make_model("mlp");
  const auto params = model->initial_parameters(8);
  const int saved = omp_get_max_threads();
  omp_set_num_threads(1);
  const Evaluation one = evaluate(*model, params, test_set, 64);
  omp_set_num_threads(std::max(2, saved));
  const Evaluation many = evaluate(*model, params, test_set, 64);
  omp_set_num_threads(saved);
  CHECK(one.accuracy == many.accuracy);
  CHECK(one.loss == doctest::Approx(many.loss).epsilon(1e-6));
  CHECK(one.accuracy > 0.0);
}

}  // namespace rnn
