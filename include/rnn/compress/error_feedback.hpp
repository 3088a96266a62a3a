#pragma once
// Residual memory (error feedback) for any compressor: before compressing, the remainder of
// earlier pushes is added to the gradient, p = g + e; after the push, e = p − delivered, so
// nothing is lost, only delayed (Seide et al., "1-bit SGD", Interspeech 2014; Stich, Cordonnier,
// Jaggi, NeurIPS 2018; Karimireddy et al., "Error feedback fixes SignSGD", ICML 2019).
// `topk-ef` is TopK wrapped in this memory; CompressorOptions::error_feedback wraps any other.
// Like every residual memory, it relies on the rule in compressor.hpp: the receiver applies all
// it delivers, with a constant step.
#include <memory>
#include <string>
#include <vector>

#include "rnn/compress/compressor.hpp"

namespace rnn {

// The residual memory on its own, two-phase: compensate() forms p = g + e, and commit() of what
// was delivered sets e = p − delivered. A compensation that is never committed was never
// delivered (its push failed to encode): the next compensate() first keeps all of it, e = p, so
// that gradient reaches the receiver later instead of never. ErrorFeedback uses it; DGC and
// AdaComp-IBM keep their own memories, which absorb the gradient already during compress
// (momentum, bin maxima) and so keep it through a failed push too.
class ResidualMemory {
 public:
  explicit ResidualMemory(std::size_t size) : residual_(size, 0.0F), corrected_(size, 0.0F) {}
  // p = g + e, after keeping an uncommitted p whole; the returned span stays valid until the next
  // call. Throws rnn::Error, keeping nothing of `gradient`, if p is not finite (a non-finite
  // gradient, or a residual grown past the float range).
  std::span<const float> compensate(std::span<const float> gradient);
  // e = p − delivered: delivered entries keep only what the codec rounded away, the rest keep p.
  void commit(const ParameterLayout& layout, const Message& delivered);
  // e, as the next compensate() will add it (an uncommitted p included).
  [[nodiscard]] std::span<const float> residual() const { return open_ ? corrected_ : residual_; }
  // Checkpoints: the residual as the next compensate() would add it.
  void save_state(std::vector<std::uint8_t>& out) const;
  [[nodiscard]] std::vector<float> read_state(wire::Reader& in) const;  // checked, not yet taken
  void take_state(std::vector<float> residual);

 private:
  std::vector<float> residual_;   // e
  std::vector<float> corrected_;  // p of the open compensation
  bool open_ = false;             // compensated, not yet committed
};

class ErrorFeedback final : public Compressor {
 public:
  ErrorFeedback(const ParameterLayout& layout, std::unique_ptr<Compressor> inner, std::string name);
  [[nodiscard]] std::string_view name() const override { return name_; }
  [[nodiscard]] bool keeps_residual() const override { return true; }
  void compress(std::span<const float> gradient, Message& out) override;
  void commit(const Message& delivered) override;
  [[nodiscard]] const ResidualMemory& memory() const { return memory_; }
  void save_state(std::vector<std::uint8_t>& out) const override;
  void load_state(wire::Reader& in) override;

 private:
  std::unique_ptr<Compressor> inner_;
  std::string name_;
  ResidualMemory memory_;
};

}  // namespace rnn
