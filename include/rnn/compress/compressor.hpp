#pragma once
// What a worker sends instead of its dense gradient. A compressor turns the flat gradient into a
// Message, one block per parameter tensor, selecting and/or quantising each tensor on its own
// (AdaComp's per-tensor rule; Hardy et al. 2017). Compressors may keep state between pushes
// (residual memory, momentum, random streams), so each worker owns its own instance.
//
// A push is two calls: compress() writes the message; commit() is then given the message as it
// will actually be received (after the codec's rounding, see round_to_encoding), so a memory keeps
// exactly what was not delivered. PushEncoder (push.hpp) does both in the right order.
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "rnn/compress/message.hpp"
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

  // Writes the update for `gradient` (flat, in the layout's order) into `out`, reusing its buffers.
  // Throws rnn::Error on a gradient of the wrong size or with non-finite entries.
  virtual void compress(std::span<const float> gradient, Message& out) = 0;
  // Tells the compressor what the receiver gets for the message compress() just produced.
  virtual void commit(const Message& delivered) { (void)delivered; }

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

// Everything a compressor may be configured with; each uses its own fields.
struct CompressorOptions {
  std::string name = "adacomp";
  double ratio = 0.01;              // c: fraction of each tensor sent, k = max(1, floor(c·n))
  double threshold = 1e-3;          // threshold: send |g| ≥ h
  std::uint32_t levels = 4;         // qsgd: s quantisation levels
  bool error_feedback = false;      // wrap any sparsifier in a residual memory
  double momentum = 0.9;            // dgc: momentum correction factor
  std::uint64_t warmup_pushes = 0;  // dgc: pushes over which the ratio falls from 25 % to c
  double clip_norm = 0.0;           // dgc: local gradient clipping of each tensor's l2 norm (0 = off)
  std::uint32_t conv_bin = 50;      // adacomp-ibm: bin length for convolution tensors
  std::uint32_t dense_bin = 500;    // adacomp-ibm: bin length for every other tensor
  std::uint64_t seed = 1;           // randomk, qsgd, terngrad: random stream
  std::uint64_t stream = 0;         // … per worker
};

[[nodiscard]] const std::vector<std::string>& compressor_names();
// Throws rnn::Error naming the problem for an unknown name or an out-of-range option.
[[nodiscard]] std::unique_ptr<Compressor> make_compressor(const CompressorOptions& options,
                                                          const ParameterLayout& layout);

// k = max(1, floor(c·n)), never more than n.
[[nodiscard]] std::size_t entries_to_send(double ratio, std::size_t n);

}  // namespace rnn
