#include "rnn/models/model.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "rnn/core/error.hpp"

namespace rnn {

Model::Model(std::string name, Shape input) : name_(std::move(name)), input_(input) {}

Shape Model::output_shape() const {
  return layers_.empty() ? input_ : layers_.back()->output_shape();
}

Layer& Model::add(std::unique_ptr<Layer> layer) {
  const Shape previous = output_shape();
  if (layer->input_shape().size() != previous.size()) {
    throw Error(fmt::format("model {}: layer '{}' expects {} inputs but the previous layer gives {}", name_,
                            layer->describe(), layer->input_shape().size(), previous.size()));
  }
  const std::string kind(layer->kind());
  const int count = ++layers_of_kind_[kind];
  const std::size_t size_before = layout_.size();
  layer->declare_parameters(layout_, fmt::format("{}{}", kind, count));
  if (size_before == 0 && layout_.size() > 0) first_trainable_ = layers_.size();
  parameter_ranges_.emplace_back(size_before, layout_.size());
  layers_.push_back(std::move(layer));
  return *layers_.back();
}

std::string Model::summary() const {
  std::string out = fmt::format("model {} ({} parameters)\n", name_, layout_.size());
  for (const auto& layer : layers_) out += fmt::format("  {}\n", layer->describe());
  return out;
}

std::vector<float> Model::initial_parameters(std::uint64_t seed) const {
  std::vector<float> params(layout_.size(), 0.0F);
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    Rng rng(seed, 0x1A1E5 + i);  // one stream per layer: adding a layer never shifts the others
    layers_[i]->initialise(params, rng);
  }
  return params;
}

Workspace Model::make_workspace(std::uint64_t stream) const {
  Workspace ws;
  ws.activations.resize(layers_.size());
  for (const auto& layer : layers_) ws.states.push_back(layer->make_state(stream));
  return ws;
}

void Model::reseed_workspace(Workspace& ws, std::uint64_t stream) const {
  if (ws.states.size() != layers_.size())
    throw Error(fmt::format("model {}: workspace has {} layer states, the model {} layers", name_, ws.states.size(),
                            layers_.size()));
  for (std::size_t i = 0; i < layers_.size(); ++i) layers_[i]->reseed(ws.states[i].get(), stream);
}

const Matrix& Model::forward(std::span<const float> params, const Matrix& x, Workspace& ws, bool training) const {
  if (params.size() != layout_.size()) {
    throw Error(fmt::format("model {}: {} parameters given, {} expected", name_, params.size(), layout_.size()));
  }
  if (x.cols() != input_.size()) {
    throw Error(fmt::format("model {}: input has {} features, {} expected", name_, x.cols(), input_.size()));
  }
  if (layers_.empty()) throw Error(fmt::format("model {} has no layers", name_));
  const Matrix* in = &x;
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    layers_[i]->forward(params, *in, ws.activations[i], ws.states[i].get(), training);
    in = &ws.activations[i];
  }
  return *in;
}

LossSum Model::loss_and_gradient(std::span<const float> params, const Matrix& x, std::span<const std::uint8_t> labels,
                                 std::span<float> grad, Workspace& ws, GradientReady* ready) const {
  const bool split = ready != nullptr && ready->takes_split_gradients();
  const bool needs_grad = !(split && splits_every_gradient() && grad.empty());
  if (needs_grad && grad.size() != layout_.size()) {
    throw Error(
        fmt::format("model {}: gradient buffer has {} entries, {} expected", name_, grad.size(), layout_.size()));
  }
  const Matrix& logits = forward(params, x, ws, true);
  ws.deltas.resize(layers_.size());
  const LossSum loss = softmax_cross_entropy(logits, labels, &ws.deltas.back());
  if (ready != nullptr) ready->loss_computed(loss);
  for (std::size_t i = layers_.size(); i-- > first_trainable_;) {
    const Matrix& in = i == 0 ? x : ws.activations[i - 1];
    Matrix* dx = i == first_trainable_ ? nullptr : &ws.deltas[i - 1];
    if (split && layers_[i]->splits_gradient()) {
      layers_[i]->backward_input(params, in, ws.activations[i], ws.deltas[i], dx, ws.states[i].get());
    } else {
      layers_[i]->backward(params, in, ws.activations[i], ws.deltas[i], dx, grad, ws.states[i].get());
    }
    const auto [begin, end] = parameter_ranges_[i];
    if (ready != nullptr && end > begin) (*ready)(i, begin, end);
  }
  return loss;
}

void Model::report_gradient_ranges(GradientReady& ready) const {
  for (std::size_t i = layers_.size(); i-- > first_trainable_;) {
    const auto [begin, end] = parameter_ranges_[i];
    if (end > begin) ready(i, begin, end);
  }
}

bool Model::splits_every_gradient() const {
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    const auto [begin, end] = parameter_ranges_[i];
    if (end > begin && !layers_[i]->splits_gradient()) return false;
  }
  return true;
}

GradientSource Model::gradient_source(std::size_t layer, const Matrix& x, const Workspace& ws, float weight) const {
  if (layer >= layers_.size() || ws.states.size() != layers_.size()) {
    throw Error(fmt::format("model {}: no layer {} in a workspace of {} layers", name_, layer, ws.states.size()));
  }
  return {layer == 0 ? &x : &ws.activations[layer - 1], ws.states[layer].get(), weight};
}

}  // namespace rnn
