#include "rnn/models/registry.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "rnn/core/error.hpp"
#include "rnn/gelenbe/dense_nuclei.hpp"
#include "rnn/gelenbe/feedforward.hpp"
#include "rnn/layers/activation.hpp"
#include "rnn/layers/conv2d.hpp"
#include "rnn/layers/dense.hpp"
#include "rnn/layers/dropout.hpp"
#include "rnn/layers/flatten.hpp"
#include "rnn/layers/maxpool2d.hpp"
#include "rnn/layers/scale.hpp"
#include "rnn/layers/standardize.hpp"

namespace rnn {
namespace {

constexpr int kHidden = 512;
constexpr int kCnnDense = 128;
constexpr int kGelenbeHidden = 128;

// Builds a chain layer by layer, tracking the current shape.
class Builder {
 public:
  Builder(std::string name, const ModelOptions& options)
      : options_(options), model_(std::make_unique<Model>(std::move(name), options.input)) {}

  Shape shape() const { return model_->output_shape(); }
  int width() const { return shape().size(); }

  AffineInit affine(WeightInit default_init) const {
    return options_.seed_init ? AffineInit{WeightInit::truncated_normal, 0.1F, 0.1F}
                              : AffineInit{default_init, 0.1F, 0.0F};
  }

  Builder& gelenbe_ff(std::vector<int> sizes) {
    sizes.insert(sizes.begin(), width());
    return add(std::make_unique<GelenbeFeedforward>(std::move(sizes)));
  }
  Builder& nuclei(int out) { return add(std::make_unique<DenseNuclei>(width(), out)); }
  Builder& rnl(int out) { return add(std::make_unique<RandomNeuralLayer>(width(), out, options_.rnl)); }
  Builder& dense(int out, WeightInit init) { return add(std::make_unique<Dense>(width(), out, affine(init))); }
  Builder& conv(int filters) { return add(std::make_unique<Conv2D>(shape(), filters, affine(WeightInit::he_uniform))); }
  Builder& relu() { return add(std::make_unique<Activation>(ActivationKind::relu, shape())); }
  Builder& pool() { return add(std::make_unique<MaxPool2D>(shape())); }
  Builder& flatten() { return add(std::make_unique<Flatten>(shape())); }
  Builder& standardize() { return add(std::make_unique<Standardize>(shape())); }
  Builder& scale() { return add(std::make_unique<Scale>(options_.output_scale, shape())); }
  Builder& dropout() {
    if (options_.dropout > 0.0F) {
      add(std::make_unique<Dropout>(options_.dropout, shape(), options_.seed + model_->layers().size()));
    }
    return *this;
  }
  std::unique_ptr<Model> done() { return std::move(model_); }

 private:
  Builder& add(std::unique_ptr<Layer> layer) {
    model_->add(std::move(layer));
    return *this;
  }
  ModelOptions options_;
  std::unique_ptr<Model> model_;
};

// NaN passes every comparison, so each test is written to fail for it.
void check_options(std::string_view name, const ModelOptions& o) {
  if (!(o.input.height > 0 && o.input.width > 0 && o.input.channels > 0)) {
    throw Error(fmt::format("model {}: input shape {}x{}x{} is not positive", name, o.input.height, o.input.width,
                            o.input.channels));
  }
  if (o.classes <= 0) throw Error(fmt::format("model {}: class count must be positive, got {}", name, o.classes));
  if (!(o.dropout >= 0.0F && o.dropout < 1.0F)) {
    throw Error(fmt::format("model {}: dropout rate must be in [0, 1), got {}", name, o.dropout));
  }
  if (!(std::isfinite(o.output_scale) && o.output_scale > 0.0F)) {
    throw Error(fmt::format("model {}: output scale must be a positive finite number, got {}", name, o.output_scale));
  }
  if (!(std::isfinite(o.rnl.gain) && o.rnl.gain > 0.0F)) {
    throw Error(
        fmt::format("model {}: RNL initialisation gain must be a positive finite number, got {}", name, o.rnl.gain));
  }
}

}  // namespace

const std::vector<std::string>& model_names() {
  static const std::vector<std::string> names{"rnl_deep", "rnl_hybrid", "mlp",   "cnn",
                                              "cnn_rnl",  "gelenbe_ff", "nuclei"};
  return names;
}

std::unique_ptr<Model> make_model(std::string_view name, const ModelOptions& options) {
  const auto& names = model_names();
  if (std::find(names.begin(), names.end(), name) == names.end()) {
    throw Error(fmt::format("unknown model '{}' (choose one of: {})", name, fmt::join(names, ", ")));
  }
  check_options(name, options);
  Builder b(std::string(name), options);
  const int classes = options.classes;
  if (name == "rnl_deep") {
    b.rnl(kHidden).dropout().rnl(kHidden).dropout().rnl(classes).scale();
  } else if (name == "rnl_hybrid") {
    b.rnl(kHidden).dropout().rnl(kHidden).dropout().dense(classes, WeightInit::glorot_uniform);
  } else if (name == "mlp") {
    b.dense(kHidden, WeightInit::he_uniform).relu().dropout();
    b.dense(kHidden, WeightInit::he_uniform).relu().dropout().dense(classes, WeightInit::glorot_uniform);
  } else if (name == "cnn") {
    b.standardize().conv(32).relu().pool().conv(64).relu().pool().flatten();
    b.dense(kCnnDense, WeightInit::he_uniform).relu().dropout().dense(classes, WeightInit::glorot_uniform);
  } else if (name == "cnn_rnl") {
    b.conv(32).relu().pool().conv(64).relu().pool().flatten();
    b.rnl(kCnnDense).dropout().rnl(classes).scale();
  } else if (name == "gelenbe_ff") {
    b.gelenbe_ff({kGelenbeHidden, classes}).scale();
  } else if (name == "nuclei") {
    b.nuclei(kHidden).dense(classes, WeightInit::glorot_uniform);
  } else {
    throw Error(fmt::format("model '{}' is registered but has no construction", name));
  }
  return b.done();
}

}  // namespace rnn
