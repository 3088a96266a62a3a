#pragma once
// What a worker sends instead of its dense gradient. A compressor turns the flat gradient into a
// Message, one block per parameter tensor, selecting and/or quantising each tensor on its own
// (AdaComp's per-tensor rule; Hardy et al. 2017). Compressors may keep state between pushes
// (residual memory, momentum, random streams), so each worker owns its own instance. They are
// made by name from the table in registry.hpp.
//
// A push is two calls: compress() writes the message; commit() is then given the message as it
// will actually be received (after the codec's rounding, see round_to_encoding), so a memory keeps
// exactly what was not delivered. A compress() never followed by commit() was not delivered: a
// memory keeps that gradient whole for the next push. PushEncoder (push.hpp) does both in order.
//
// The residual rule. A compressor that keeps a residual (keeps_residual(): error feedback, DGC,
// AdaComp-IBM) writes off exactly what it delivered, so it is exact only if the receiver applies
// every delivered value in full with one constant step size α, θ ← θ − α·v. A server that scales
// a push's step (staleness-aware steps α/max(1, τ), global or per parameter) or a learning rate
// that changes between pushes applies less, or more, than the memory wrote off, and the
// difference is silently lost. Pair residual-keeping compressors with a plain step at a constant
// learning rate; check_step_scale() refuses the other pairings wherever the two are combined.
#include <cstdint>
#include <span>
#include <string_view>

#include "rnn/compress/message.hpp"
#include "rnn/core/byte_io.hpp"
#include "rnn/core/parameters.hpp"

namespace rnn {

class Compressor {
 public:
  explicit Compressor(const ParameterLayout& layout) : layout_(layout) {}
  virtual ~Compressor() = default;
  Compressor(const Compressor&) = delete;
  Compressor& operator=(const Compressor&) = delete;
  Compressor(Compressor&&) = delete;
  Compressor& operator=(Compressor&&) = delete;

  [[nodiscard]] virtual std::string_view name() const = 0;
  // True if what is not delivered is kept for later pushes (see the residual rule above).
  [[nodiscard]] virtual bool keeps_residual() const { return false; }

  // Writes the update for `gradient` (flat, in the layout's order) into `out`, reusing its buffers.
  // Throws rnn::Error on a gradient of the wrong size or with non-finite entries.
  virtual void compress(std::span<const float> gradient, Message& out) = 0;
  // Tells the compressor what the receiver gets for the message compress() just produced.
  virtual void commit(const Message& delivered) { (void)delivered; }

  // Checkpoints: save_state appends everything the compressor carries from push to push (residual
  // memories, momentum, push counters, random streams) to `out`; load_state reads back what
  // save_state wrote, into a compressor built with the same options and layout. load_state throws
  // rnn::Error on bytes that do not fit and then leaves the compressor as it was. Stateless
  // compressors write nothing.
  virtual void save_state(std::vector<std::uint8_t>& out) const { (void)out; }
  virtual void load_state(wire::Reader& in) { (void)in; }

  [[nodiscard]] const ParameterLayout& layout() const { return layout_; }

 protected:
  // Throws unless the gradient has the layout's size (check_size) and only finite entries.
  void check_size(std::span<const float> gradient) const;
  void check_gradient(std::span<const float> gradient) const;

 private:
  const ParameterLayout& layout_;
};

// The common case: each tensor compressed on its own, one block per tensor in segment order.
class TensorCompressor : public Compressor {
 public:
  using Compressor::Compressor;
  void compress(std::span<const float> gradient, Message& out) final;

 protected:
  // Called once per push before the per-tensor calls.
  virtual void begin_push() {}
  // Fills `out` for one tensor; `gradient` is that tensor's slice. `out` arrives cleared.
  virtual void compress_tensor(const Segment& segment, std::span<const float> gradient, TensorBlock& out) = 0;
};

// How the receiver scales the step of each delivered value during a run.
enum class StepScale : std::uint8_t {
  constant,  // θ ← θ − α·v with one α for every push (plain step, fixed learning rate)
  varying,   // staleness scaling (1/τ, global or per parameter) or a changing learning rate
};

// Enforces the residual rule: throws rnn::Error naming the compressor if it keeps a residual and
// the step scale varies. Call it where a compressor and a server step are put together.
void check_step_scale(const Compressor& compressor, StepScale scale);

// k = max(1, floor(c·n)), never more than n.
[[nodiscard]] std::size_t entries_to_send(double ratio, std::size_t n);

}  // namespace rnn
