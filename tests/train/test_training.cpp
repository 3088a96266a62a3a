#include <doctest/doctest.h>

#include <omp.h>

#include <cmath>

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

}  // namespace

TEST_CASE("each model family learns a synthetic task and RNL weights stay non-negative") {
  const DatasetPair data = synthetic_pair();
  for (const auto& [name, kind, lr] :
       {std::tuple{"rnl_deep", OptimizerKind::adam, 2e-3F}, std::tuple{"rnl_hybrid", OptimizerKind::rmsprop, 1e-3F},
        std::tuple{"mlp", OptimizerKind::sgd, 0.05F}}) {
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

TEST_CASE("data-parallel training with per-layer updates matches one thread, idle threads included") {
  // 7 samples in batches of 3 on 3 threads: the last batch has one row, so two threads have no
  // rows and must still take part in every layer's update. Shards only change summation order.
  const DatasetPair data = synthetic_pair();
  const int saved = omp_get_max_threads();
  for (const std::string name : {"rnl_deep", "mlp", "cnn_rnl"}) {
    CAPTURE(name);
    const auto model = make_model(name);
    std::vector<std::vector<float>> results;
    for (const int threads : {1, 3}) {
      omp_set_num_threads(threads);
      std::vector<float> params = model->initial_parameters(9);
      auto opt = make_optimizer(OptimizerOptions{OptimizerKind::adam, 1e-3F}, model->layout());
      TrainOptions options;
      options.epochs = 2;
      options.batch = 3;
      options.train_limit = 7;
      options.progress = false;
      train(*model, params, *opt, data, options);
      results.push_back(params);
    }
    omp_set_num_threads(saved);
    const std::vector<float> initial = model->initial_parameters(9);
    double moved = 0.0;
    double differ = 0.0;
    for (std::size_t i = 0; i < initial.size(); ++i) {
      moved = std::max(moved, static_cast<double>(std::abs(results[0][i] - initial[i])));
      differ = std::max(differ, static_cast<double>(std::abs(results[1][i] - results[0][i])));
    }
    CHECK(moved > 1e-3);  // Adam moves every parameter with a gradient by about lr per step
    CHECK(differ < 1e-5);
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
  try {
    train(*model, params, *opt, data, options);
    FAIL("training with a NaN parameter did not fail");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find("epoch 1") != std::string::npos);
  }
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
