#pragma once
// Residual memory (error feedback) for any compressor: before compressing, the remainder of
// earlier pushes is added to the gradient, p = g + e; after the push, e = p − delivered, so
// nothing is lost, only delayed (Seide et al., "1-bit SGD", Interspeech 2014; Stich, Cordonnier,
// Jaggi, NeurIPS 2018; Karimireddy et al., "Error feedback fixes SignSGD", ICML 2019).
// `topk-ef` is TopK wrapped in this memory; CompressorOptions::error_feedback wraps any other.
#include <memory>
#include <string>
#include <vector>

#include "rnn/compress/compressor.hpp"

namespace rnn {

// The residual memory on its own, two-phase: compensate() forms g + e without changing e, and only
// commit() of what was delivered changes it. ErrorFeedback uses it; DGC and AdaComp-IBM keep their
// own memories, which absorb the gradient already during compress (momentum, bin maxima).
class ResidualMemory {
 public:
  explicit ResidualMemory(std::size_t size) : residual_(size, 0.0F), corrected_(size, 0.0F) {}
  // p = g + e; the returned span stays valid until the next call.
  std::span<const float> compensate(std::span<const float> gradient);
  // e = p − delivered: delivered entries keep only what the codec rounded away, the rest keep p.
  void commit(const ParameterLayout& layout, const Message& delivered);
  [[nodiscard]] std::span<const float> residual() const { return residual_; }

 private:
  std::vector<float> residual_;
  std::vector<float> corrected_;
};

class ErrorFeedback final : public Compressor {
 public:
  ErrorFeedback(const ParameterLayout& layout, std::unique_ptr<Compressor> inner, std::string name);
  [[nodiscard]] std::string_view name() const override { return name_; }
  void compress(std::span<const float> gradient, Message& out) override;
  void commit(const Message& delivered) override;
  [[nodiscard]] const ResidualMemory& memory() const { return memory_; }

 private:
  std::unique_ptr<Compressor> inner_;
  std::string name_;
  ResidualMemory memory_;
};

}  // namespace rnn
