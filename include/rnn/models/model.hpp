#pragma once
// A model is a chain of layers over one ParameterLayout. It holds no parameters and no
// activations: callers pass a flat parameter vector (the model's own, a worker's snapshot,
// a perturbed copy in a gradient check) and a Workspace they own, so any number of threads
// can evaluate the same model concurrently, each with its own Workspace.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "rnn/core/parameters.hpp"
#include "rnn/layers/layer.hpp"
#include "rnn/layers/softmax_cross_entropy.hpp"

namespace rnn {

// Told, during a backward pass, that one layer's gradient is complete: `layer` is its index in the
// model and `begin, end` its range of the flat parameter vector. The layer has also finished reading
// its parameters for this pass, so a caller may update them in place at once, while the gradient is
// still in cache.
class GradientReady {
 public:
  // Called once per loss_and_gradient, after the forward pass and before any range is reported.
  virtual void loss_computed(const LossSum& /*loss*/) {}
  // Whether the caller sums the gradients of the layers that can split theirs (Layer::
  // splits_gradient) itself, from several callers' workspaces (Model::gradient_source): those
  // layers' segments of `grad` are then left untouched, and "complete" means that this caller's
  // part of the sum is ready in its workspace.
  [[nodiscard]] virtual bool takes_split_gradients() const { return false; }
  virtual void operator()(std::size_t layer, std::size_t begin, std::size_t end) = 0;

 protected:
  GradientReady() = default;
  GradientReady(const GradientReady&) = default;
  GradientReady& operator=(const GradientReady&) = default;
  ~GradientReady() = default;
};

// Per-caller activations and layer scratch, reused across calls (no allocation per batch
// once the batch size is stable).
struct Workspace {
  std::vector<Matrix> activations;  // activations[i] = output of layer i
  std::vector<std::unique_ptr<LayerState>> states;
  // deltas[i] = ∂L/∂(output of layer i). One buffer per layer, so each keeps its shape from call
  // to call: a pair of buffers swapped between layers of different sizes was reallocated at every
  // layer of every backward pass (fresh pages, zeroed by the kernel, for the large ones).
  std::vector<Matrix> deltas;
};

class Model {
 public:
  Model(std::string name, Shape input);

  // Appends a layer; its input size must match the previous output. Parameterised layers are
  // named <kind><n> ("rnl1", "dense2", ...) and their segments "<name>.<tensor>".
  Layer& add(std::unique_ptr<Layer> layer);

  [[nodiscard]] const std::string& name() const { return name_; }
  [[nodiscard]] Shape input_shape() const { return input_; }
  [[nodiscard]] Shape output_shape() const;
  [[nodiscard]] const ParameterLayout& layout() const { return layout_; }
  [[nodiscard]] std::size_t parameter_count() const { return layout_.size(); }
  [[nodiscard]] const std::vector<std::unique_ptr<Layer>>& layers() const { return layers_; }
  [[nodiscard]] std::string summary() const;  // one line per layer, with parameter counts

  [[nodiscard]] std::vector<float> initial_parameters(std::uint64_t seed) const;
  // `stream` numbers concurrent callers (e.g. data-parallel shards) for their random streams.
  [[nodiscard]] Workspace make_workspace(std::uint64_t stream = 0) const;
  // Gives a workspace the random streams make_workspace(stream) would (dropout masks), keeping its
  // buffers: one workspace per thread can serve many callers, each with its own reproducible masks.
  void reseed_workspace(Workspace& ws, std::uint64_t stream) const;

  // Returns the logits (a reference into the workspace).
  const Matrix& forward(std::span<const float> params, const Matrix& x, Workspace& ws, bool training) const;

  // Forward + backward of the mean softmax cross-entropy; writes the gradient into `grad`. With
  // `ready`, each parameterised layer's range is reported as soon as its gradient is complete,
  // last layer first; if `ready` takes split gradients, the layers that split theirs are left out
  // of `grad`, which may then be empty when every layer does (splits_every_gradient()).
  LossSum loss_and_gradient(std::span<const float> params, const Matrix& x, std::span<const std::uint8_t> labels,
                            std::span<float> grad, Workspace& ws, GradientReady* ready = nullptr) const;
  // Reports the same ranges in the same order without computing anything: a data-parallel
  // thread with no rows in a batch still takes part in every per-layer update.
  void report_gradient_ranges(GradientReady& ready) const;
  // Layer `layer`'s part in a split gradient, from a caller whose last loss_and_gradient ran on
  // input x with workspace ws; `weight` is that call's share of the batch. Valid while x and ws are.
  [[nodiscard]] GradientSource gradient_source(std::size_t layer, const Matrix& x, const Workspace& ws,
                                               float weight) const;
  // Whether every layer with parameters splits its gradient (Layer::splits_gradient).
  [[nodiscard]] bool splits_every_gradient() const;

 private:
  std::string name_;
  Shape input_;
  std::vector<std::unique_ptr<Layer>> layers_;
  std::vector<std::pair<std::size_t, std::size_t>> parameter_ranges_;  // per layer: [begin, end)
  std::size_t first_trainable_ = 0;                         // backward stops here: no gradient is needed below it
  std::map<std::string, int, std::less<>> layers_of_kind_;  // for naming: "rnl1", "rnl2", ...
  ParameterLayout layout_;
};

}  // namespace rnn
