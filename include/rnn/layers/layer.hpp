#pragma once
// The layer contract.
//
// A layer is an immutable description (shapes, options, which parameter segments it owns).
// It never owns parameters or activations: forward/backward read parameters from any flat
// vector laid out by the model's ParameterLayout and keep per-call scratch in a caller-owned
// LayerState, so one model can be evaluated by many threads at once, on one shared parameter
// vector (the data-parallel step) or each on its own snapshot (what asynchronous workers need).
//
//   forward:  y = f(x; θ)                              x: batch x in,  y: batch x out
//   backward: given g = ∂L/∂y, writes ∂L/∂θ into the layer's segments of `grad`
//             (overwriting them) and, if dx != nullptr, ∂L/∂x into *dx.
// backward must be called with the same x, y and state as the forward call before it.
// A layer reads and writes only its own segments of params and grad, and its backward reads its
// parameters for the last time before it returns: the trainer updates a layer's parameters while
// other threads are still running backward through the layers below it.
// forward and backward never write x, y or dy (only y in forward, *dx and their own state), and a
// layer's backward leaves its state as split_gradient() needs it: the data-parallel trainer lets
// other threads read a shard's inputs and states (GradientSource) while the shard's own thread is
// still running backward through the layers below.
// Matrices are resized only when the batch size changes, so steady-state calls do not allocate.
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "rnn/core/parameters.hpp"
#include "rnn/core/rng.hpp"
#include "rnn/core/tensor.hpp"

namespace rnn {

// Per-caller scratch of one layer (cached denominators, im2col buffers, dropout masks...).
struct LayerState {
  virtual ~LayerState() = default;
};

// One data-parallel shard's part in a gradient split by parameters: the input its forward pass saw,
// the state its backward_input() left, and its weight in the sum (its share of the batch).
struct GradientSource {
  const Matrix* x = nullptr;
  const LayerState* state = nullptr;
  float weight = 1.0F;
};

// Entries [first, last) of `count` that part `part` of `parts` takes, in order and as even as
// integers allow: a data-parallel thread's rows of a batch, a split_gradient part's rows of W.
struct Share {
  std::size_t first = 0;
  std::size_t last = 0;
};
[[nodiscard]] constexpr Share share_of(std::size_t count, std::size_t part, std::size_t parts) {
  return {count * part / parts, count * (part + 1) / parts};
}

// Entries per block of a split gradient: small enough (16 KB) to stay in L1 from the products that
// sum a block to the optimizer update that consumes it. Measured on rnl_deep (784-512-512-10, batch
// 128, 2 threads), alternating runs in one process: 3-4 % faster than 16 K entries, and faster than
// 8 K or 32 K, even though 8-row GEMMs take OpenBLAS's small-matrix kernels.
inline constexpr Eigen::Index kSplitGradientBlock = 4096;

// Receives the blocks of a split gradient: entries [begin, end) of the flat parameter vector, whose
// gradient is gradient[0, end − begin). The block is only valid during the call.
class GradientBlockSink {
 public:
  virtual void operator()(std::size_t begin, std::size_t end, const float* gradient) = 0;

 protected:
  GradientBlockSink() = default;
  GradientBlockSink(const GradientBlockSink&) = default;
  GradientBlockSink& operator=(const GradientBlockSink&) = default;
  ~GradientBlockSink() = default;
};

class Layer {
 public:
  virtual ~Layer() = default;

  [[nodiscard]] virtual std::string_view kind() const = 0;
  [[nodiscard]] virtual std::string describe() const = 0;  // e.g. "rnl 784->512"
  [[nodiscard]] virtual Shape input_shape() const = 0;
  [[nodiscard]] virtual Shape output_shape() const = 0;

  // Registers this layer's tensors under `prefix` (the layer's name in the model).
  virtual void declare_parameters(ParameterLayout& /*layout*/, const std::string& /*prefix*/) {}
  // Fills this layer's segments of `params` with initial values.
  virtual void initialise(std::span<float> /*params*/, Rng& /*rng*/) const {}

  // Per-caller scratch. `stream` tells concurrent callers' random streams apart (dropout masks),
  // so a run does not depend on how many states were made before, or in which order.
  [[nodiscard]] std::unique_ptr<LayerState> make_state(std::uint64_t stream = 0) const { return create_state(stream); }
  // Restarts the random streams of a state made by this layer as if it had been made for `stream`
  // (what make_state(stream) would hold), without reallocating its scratch. Layers without random
  // streams do nothing.
  virtual void reseed(LayerState* /*state*/, std::uint64_t /*stream*/) const {}

  virtual void forward(std::span<const float> params, const Matrix& x, Matrix& y, LayerState* state,
                       bool training) const = 0;
  virtual void backward(std::span<const float> params, const Matrix& x, const Matrix& y, const Matrix& dy, Matrix* dx,
                        std::span<float> grad, LayerState* state) const = 0;

  // Optional: a gradient split by parameters instead of by batch rows. A layer whose parameter
  // gradient is a sum of per-row terms can compute Σ_s weight_s · ∂L_s/∂θ for any share of its
  // parameters from the states several shards' backward passes left. Data-parallel threads then
  // each sum their own share over the whole batch, a cache-sized block at a time, and hand every
  // block to the optimizer at once: no thread writes a full gradient that another reads back.
  [[nodiscard]] virtual bool splits_gradient() const { return false; }
  // backward() without the parameter gradient: writes *dx (if asked) and keeps in `state` what
  // split_gradient() needs. Reads the parameters for the last time before it returns.
  virtual void backward_input(std::span<const float> params, const Matrix& x, const Matrix& y, const Matrix& dy,
                              Matrix* dx, LayerState* state) const;
  // Part `part` of `parts` of the layer's parameter gradient, summed over `sources`, on the calling
  // thread: its blocks go to `sink` one at a time. The parts of one call cover every parameter of
  // the layer exactly once; over no sources the gradient is zero. `scratch` is the calling thread's
  // own state of this layer: it may also be one of the sources, which other threads are reading at
  // the same time, so split_gradient writes only members of it that are never read as a source.
  virtual void split_gradient(std::span<const GradientSource> sources, std::size_t part, std::size_t parts,
                              LayerState* scratch, GradientBlockSink& sink) const;
  // The parameters part `part` of `parts` of split_gradient() updates: calls range(begin, end) once
  // for each contiguous run [begin, end) of entries of the flat parameter vector. The runs of all
  // parts cover the layer's parameters exactly once. Every layer that splits its gradient must say
  // this too: the data-parallel trainer evicts the other parts' runs from each thread's caches.
  virtual void split_ranges(std::size_t part, std::size_t parts,
                            const std::function<void(std::size_t, std::size_t)>& range) const;

 protected:
  [[nodiscard]] virtual std::unique_ptr<LayerState> create_state(std::uint64_t /*stream*/) const { return nullptr; }
};

}  // namespace rnn
