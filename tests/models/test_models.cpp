#include <doctest/doctest.h>

#include <omp.h>

#include <algorithm>
#include <limits>
#include <span>
#include <thread>
#include <utility>
#include <vector>

#include "rnn/core/error.hpp"
#include "rnn/models/defaults.hpp"
#include "rnn/models/registry.hpp"
#include "support/gradient_check.hpp"

namespace rnn {
namespace {

std::vector<std::uint8_t> random_labels(int n, Rng& rng) {
  std::vector<std::uint8_t> labels;
  for (int i = 0; i < n; ++i) labels.push_back(static_cast<std::uint8_t>(rng.below(10)));
  return labels;
}

// One model (with or without dropout), its initial parameters, a batch of `rows` random inputs
// (`zeros` of them set to zero) and the gradient a plain loss_and_gradient call gives for them.
struct GradientCase {
  std::unique_ptr<Model> model;
  std::vector<float> params;
  Matrix x;
  std::vector<std::uint8_t> labels;
  std::vector<float> grad;
};

GradientCase gradient_case(const std::string& name, float dropout, int rows, float zeros, std::uint64_t seed) {
  GradientCase c;
  ModelOptions options;
  options.dropout = dropout;
  c.model = make_model(name, options);
  Rng rng(seed);
  c.params = c.model->initial_parameters(4);
  c.x = test::random_matrix(rows, c.model->input_shape().size(), rng, 0.0F, 1.0F);
  if (zeros > 0.0F) test::zero_out(c.x, zeros, rng);
  c.labels = random_labels(rows, rng);
  c.grad.resize(c.model->parameter_count());
  Workspace ws = c.model->make_workspace();
  c.model->loss_and_gradient(c.params, c.x, c.labels, c.grad, ws);
  return c;
}

}  // namespace

TEST_CASE("model shapes and parameter counts") {
  CHECK(make_model("cnn")->parameter_count() == 421642);  // the AdaComp seed CNN
  CHECK(make_model("rnl_deep")->parameter_count() == 2 * (784 * 512 + 512 * 512 + 512 * 10));
  CHECK(make_model("mlp")->parameter_count() == 784 * 512 + 512 + 512 * 512 + 512 + 512 * 10 + 10);
  CHECK(make_model("rnl_hybrid")->parameter_count() == 2 * (784 * 512 + 512 * 512) + 512 * 10 + 10);
  CHECK(make_model("cnn_rnl")->parameter_count() == 320 + 18496 + 2 * (3136 * 128 + 128 * 10));
  CHECK(make_model("gelenbe_ff")->parameter_count() == 2 * (784 * 128 + 128 * 10));
  CHECK(make_model("nuclei")->parameter_count() == 784 * 512 + 512 * 10 + 10);
  for (const auto& name : model_names()) {
    const auto model = make_model(name);
    CHECK(model->output_shape().size() == 10);
  }
  const auto rnl = make_model("rnl_deep");
  for (const auto& s : rnl->layout().segments()) CHECK(s.non_negative);
  CHECK(rnl->layout().find("rnl1.w_plus") != nullptr);
  CHECK(rnl->layout().find("rnl3.w_minus") != nullptr);
  CHECK_THROWS_AS((void)make_model("resnet"), Error);
}

TEST_CASE("every registered model has training defaults that build it") {
  for (const auto& name : model_names()) {
    CAPTURE(name);
    TrainingDefaults d;
    REQUIRE_NOTHROW(d = training_defaults(name));
    CHECK((d.learning_rate > 0.0F && d.learning_rate < 1.0F));
    CHECK(d.sgd_learning_rate > 0.0F);
    CHECK((d.lr_decay > 0.0F && d.lr_decay <= 1.0F));
    CHECK(d.batch >= 1);
    CHECK((d.dropout >= 0.0F && d.dropout < 1.0F));
    CHECK(d.output_scale > 0.0F);
    const ModelOptions options = default_model_options(name);
    CHECK(options.dropout == d.dropout);
    CHECK(options.output_scale == d.output_scale);
    CHECK(make_model(name, options)->name() == name);
  }
  // The measured settings (README, "Training defaults, and why").
  CHECK(training_defaults("rnl_deep").learning_rate == 3e-3F);
  CHECK(training_defaults("rnl_deep").lr_decay == 0.8F);
  CHECK(training_defaults("cnn").batch == 32);
  CHECK(training_defaults("cnn").dropout == 0.25F);
  CHECK(training_defaults("gelenbe_ff").output_scale == 10.0F);
  CHECK(training_defaults("mlp").learning_rate == 1e-3F);
  CHECK_THROWS_WITH_AS((void)training_defaults("resnet"), doctest::Contains("unknown model 'resnet'"), Error);
}

TEST_CASE("make_model refuses options out of range, NaN and infinities included") {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  for (const auto& name : model_names()) {
    CAPTURE(name);
    for (const float dropout : {nan, -0.1F, 1.0F, inf}) {
      ModelOptions o;
      o.dropout = dropout;
      CHECK_THROWS_WITH_AS((void)make_model(name, o), doctest::Contains("dropout"), Error);
    }
    for (const float scale : {nan, inf, 0.0F, -5.0F}) {
      ModelOptions o;
      o.output_scale = scale;
      CHECK_THROWS_WITH_AS((void)make_model(name, o), doctest::Contains("output scale"), Error);
    }
    for (const float gain : {nan, inf, 0.0F}) {
      ModelOptions o;
      o.rnl.gain = gain;
      CHECK_THROWS_WITH_AS((void)make_model(name, o), doctest::Contains("gain"), Error);
    }
    ModelOptions no_classes;
    no_classes.classes = 0;
    CHECK_THROWS_AS((void)make_model(name, no_classes), Error);
    ModelOptions no_input;
    no_input.input = Shape{0, 28, 1};
    CHECK_THROWS_AS((void)make_model(name, no_input), Error);
  }
}

TEST_CASE("whole-model gradients match finite differences") {
  for (const auto& name : model_names()) {
    CAPTURE(name);
    ModelOptions options;
    options.rnl.gain = 2.0F;  // larger weights make the RNL partials large enough to measure in float
    const auto model = make_model(name, options);
    std::vector<float> params = model->initial_parameters(3);
    Rng rng(17);
    const Matrix x = test::random_matrix(2, 784, rng, 0.0F, 1.0F);
    const auto labels = random_labels(2, rng);
    Workspace ws = model->make_workspace();
    std::vector<float> grad(params.size());
    model->loss_and_gradient(params, x, labels, grad, ws);
    const auto loss = [&] {
      Workspace fresh = model->make_workspace();
      return softmax_cross_entropy(model->forward(params, x, fresh, true), labels, nullptr).loss / 2.0;
    };
    std::vector<std::size_t> indices;
    for (const auto& s : model->layout().segments()) {
      for (const std::size_t i : test::sample_indices(s.size(), 6, rng)) indices.push_back(s.offset + i);
    }
    const int mismatches =
        test::check_partials(params, grad, loss, test::Tolerance{1e-3, 1e-3, 5e-2}, indices, name.c_str());
    // Models built only from smooth layers must match everywhere. With ReLU and max-pooling, a
    // step can cross a kink (a pool window of tied zeros changes winner), so a few partials of
    // the conv layers may disagree; each of those layers passes its own exact check above.
    const bool smooth = name.rfind("rnl", 0) == 0;
    if (smooth) {
      CHECK(mismatches == 0);
    } else {
      CHECK(mismatches <= static_cast<int>(indices.size()) / 10);
    }
  }
}

TEST_CASE("a model is re-entrant: concurrent evaluations on separate workspaces agree") {
  // Single-threaded products (Eigen's and OpenBLAS's, see gemm.hpp), so that every evaluation sums
  // in the same order and results must be bit-identical; any difference would come from shared
  // mutable state.
  const int saved_threads = Eigen::nbThreads();
  Eigen::setNbThreads(1);
  const int saved_omp = omp_get_max_threads();
  omp_set_num_threads(1);
  const auto model = make_model("cnn_rnl");
  const std::vector<float> params = model->initial_parameters(9);
  Rng rng(23);
  const Matrix x = test::random_matrix(16, 784, rng, 0.0F, 1.0F);
  const auto labels = random_labels(16, rng);
  std::vector<float> reference(params.size());
  Workspace ws = model->make_workspace();
  model->loss_and_gradient(params, x, labels, reference, ws);

  std::vector<std::vector<float>> grads(4, std::vector<float>(params.size()));
  std::vector<std::thread> threads;
  for (auto& g : grads) {
    threads.emplace_back([&, out = &g] {
      omp_set_num_threads(1);  // a new thread starts from the default thread count
      Workspace own = model->make_workspace();
      for (int repeat = 0; repeat < 3; ++repeat) model->loss_and_gradient(params, x, labels, *out, own);
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& g : grads) {
    std::size_t first_difference = 0;
    while (first_difference < g.size() && g[first_difference] == reference[first_difference]) ++first_difference;
    CAPTURE(first_difference);
    CHECK(g == reference);
  }
  Eigen::setNbThreads(saved_threads);
  omp_set_num_threads(saved_omp);
}

namespace {

// Records each reported range and the gradient it held at that moment; then poisons the
// range's parameters, as a concurrent optimizer update would change them.
class RecordRanges final : public GradientReady {
 public:
  RecordRanges(std::span<const float> grad, std::span<float> params) : grad_(grad), params_(params) {}
  void operator()(std::size_t /*layer*/, std::size_t begin, std::size_t end) override {
    ranges.emplace_back(begin, end);
    const auto first = static_cast<std::ptrdiff_t>(begin);
    const auto last = static_cast<std::ptrdiff_t>(end);
    snapshots.emplace_back(grad_.begin() + first, grad_.begin() + last);
    std::fill(params_.begin() + first, params_.begin() + last, std::numeric_limits<float>::quiet_NaN());
  }
  std::vector<std::pair<std::size_t, std::size_t>> ranges;
  std::vector<std::vector<float>> snapshots;

 private:
  std::span<const float> grad_;
  std::span<float> params_;
};

}  // namespace

TEST_CASE("backward reports each layer's range once its gradient is final and its parameters are no longer read") {
  for (const float dropout : {0.0F, 0.3F}) {
    for (const std::string& name : model_names()) {
      CAPTURE(name);
      CAPTURE(dropout);
      const GradientCase c = gradient_case(name, dropout, 5, 0.0F, 21);
      const Model* model = c.model.get();
      const std::vector<float>& params = c.params;
      const Matrix& x = c.x;
      const auto& labels = c.labels;
      const std::vector<float>& clean_grad = c.grad;

      // The same pass with each layer's parameters overwritten by NaN as soon as it is reported:
      // if anything still read them, NaN would reach the gradient.
      std::vector<float> poisoned = params;
      std::vector<float> grad(model->parameter_count(), std::numeric_limits<float>::quiet_NaN());
      Workspace ws = model->make_workspace();
      RecordRanges during(grad, poisoned);
      model->loss_and_gradient(poisoned, x, labels, grad, ws, &during);
      CHECK(grad == clean_grad);

      // The ranges tile the whole vector from the end, one per parameterised layer.
      std::size_t expected_end = model->parameter_count();
      for (const auto& [begin, end] : during.ranges) {
        CHECK(end == expected_end);
        CHECK(begin < end);
        expected_end = begin;
      }
      CHECK(expected_end == 0);
      // What each report saw is the final gradient.
      for (std::size_t r = 0; r < during.ranges.size(); ++r) {
        const auto begin = static_cast<std::ptrdiff_t>(during.ranges[r].first);
        CHECK(std::equal(during.snapshots[r].begin(), during.snapshots[r].end(), clean_grad.begin() + begin));
      }
      std::vector<float> unused(model->parameter_count());
      RecordRanges without_work(grad, unused);
      model->report_gradient_ranges(without_work);
      CHECK(without_work.ranges == during.ranges);
    }
  }
}

namespace {

// The trainer's side of a split gradient, on one workspace: at each report, poisons the layer's
// parameters (a concurrent update would change them) and remembers the layer; the split gradients
// are summed only after the whole backward pass, from the states it left, as threads that are
// still behind would read them.
class SplitAfterwards final : public GradientReady {
 public:
  explicit SplitAfterwards(std::span<float> params) : params_(params) {}
  [[nodiscard]] bool takes_split_gradients() const override { return true; }
  void operator()(std::size_t layer, std::size_t begin, std::size_t end) override {
    layers.push_back(layer);
    std::fill(params_.begin() + static_cast<std::ptrdiff_t>(begin), params_.begin() + static_cast<std::ptrdiff_t>(end),
              std::numeric_limits<float>::quiet_NaN());
  }
  std::vector<std::size_t> layers;

 private:
  std::span<float> params_;
};

class CopyBlocks final : public GradientBlockSink {
 public:
  explicit CopyBlocks(std::span<float> into) : into_(into) {}
  void operator()(std::size_t begin, std::size_t end, const float* gradient) override {
    std::copy(gradient, gradient + (end - begin), into_.begin() + static_cast<std::ptrdiff_t>(begin));
  }

 private:
  std::span<float> into_;
};

}  // namespace

TEST_CASE("split gradients, summed after the backward pass from its states, equal the whole gradient") {
  for (const float dropout : {0.0F, 0.3F}) {
    for (const std::string& name : model_names()) {
      CAPTURE(name);
      CAPTURE(dropout);
      // Pixel-like inputs (80 % zeros), so RNL input layers take the sparse path.
      const GradientCase c = gradient_case(name, dropout, 6, 0.8F, 23);
      const Model* model = c.model.get();
      const Matrix& x = c.x;
      const std::vector<float>& whole = c.grad;

      std::vector<float> poisoned = c.params;
      std::vector<float> grad(model->parameter_count(), std::numeric_limits<float>::quiet_NaN());
      Workspace ws = model->make_workspace();
      SplitAfterwards ready(poisoned);
      model->loss_and_gradient(poisoned, x, c.labels, grad, ws, &ready);
      CopyBlocks into(grad);
      Workspace own = model->make_workspace(1);
      for (const std::size_t layer : ready.layers) {
        const Layer& l = *model->layers()[layer];
        if (!l.splits_gradient()) continue;
        const GradientSource source = model->gradient_source(layer, x, ws, 1.0F);
        for (std::size_t part = 0; part < 2; ++part) {
          l.split_gradient(std::span(&source, 1), part, 2, own.states[layer].get(), into);
        }
      }
      int wrong = 0;
      for (std::size_t i = 0; i < grad.size(); ++i) {
        if (!(std::abs(grad[i] - whole[i]) <= 1e-5F * (1.0F + std::abs(whole[i])))) ++wrong;
      }
      CHECK(wrong == 0);
    }
  }
}

TEST_CASE("a model's gradient does not depend on where its parameters sit in memory") {
  // Workers, checkpoints and the trainer's shards hold copies at arbitrary addresses; a reduction
  // whose order follows the alignment (as Eigen's sum() over a Map does) would change the bits.
  for (const std::string& name : model_names()) {
    CAPTURE(name);
    const auto model = make_model(name);
    Rng rng(5);
    const std::vector<float> params = model->initial_parameters(6);
    const Matrix x = test::random_matrix(3, model->input_shape().size(), rng, 0.0F, 1.0F);
    const auto labels = random_labels(3, rng);
    const std::size_t n = params.size();
    std::vector<float> storage(n + 16);
    std::vector<float> reference;
    for (std::size_t offset = 0; offset < 16; offset += 5) {
      std::copy(params.begin(), params.end(), storage.begin() + static_cast<std::ptrdiff_t>(offset));
      std::vector<float> grad(n);
      Workspace ws = model->make_workspace();
      model->loss_and_gradient(std::span<const float>(storage.data() + offset, n), x, labels, grad, ws);
      if (offset == 0) reference = grad;
      CHECK(grad == reference);
    }
  }
}

}  // namespace rnn
