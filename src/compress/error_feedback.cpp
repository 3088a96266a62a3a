#include "rnn/compress/error_feedback.hpp"

#include <fmt/format.h>

#include "rnn/core/error.hpp"

namespace rnn {

std::span<const float> ResidualMemory::compensate(std::span<const float> gradient) {
  for (std::size_t i = 0; i < gradient.size(); ++i) corrected_[i] = gradient[i] + residual_[i];
  return {corrected_.data(), gradient.size()};
}

void ResidualMemory::commit(const ParameterLayout& layout, const Message& delivered) {
  residual_.swap(corrected_);  // e = p, then minus what was delivered; compensate() rewrites p anyway
  for (const auto& block : delivered.blocks) {
    const std::size_t offset = layout.segment(block.segment).offset;
    if (block.dense) {
      for (std::size_t i = 0; i < block.values.size(); ++i) residual_[offset + i] -= block.values[i];
    } else {
      for (std::size_t j = 0; j < block.indices.size(); ++j) residual_[offset + block.indices[j]] -= block.values[j];
    }
  }
}

ErrorFeedback::ErrorFeedback(const ParameterLayout& layout, std::unique_ptr<Compressor> inner, std::string name)
    : Compressor(layout), inner_(std::move(inner)), name_(std::move(name)), memory_(layout.size()) {}

void ErrorFeedback::compress(std::span<const float> gradient, Message& out) {
  // The inner compressor checks p = g + e, which also catches a memory that overflowed.
  if (gradient.size() != layout().size())
    throw Error(fmt::format("{}: gradient has {} entries, the model has {}", name(), gradient.size(), layout().size()));
  inner_->compress(memory_.compensate(gradient), out);
}

void ErrorFeedback::commit(const Message& delivered) {
  memory_.commit(layout(), delivered);
  inner_->commit(delivered);
}

}  // namespace rnn
