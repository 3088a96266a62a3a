#include "rnn/compress/error_feedback.hpp"

namespace rnn {

std::span<const float> ResidualMemory::compensate(std::span<const float> gradient) {
  for (std::size_t i = 0; i < gradient.size(); ++i) corrected_[i] = gradient[i] + residual_[i];
  return {corrected_.data(), gradient.size()};
}

void ResidualMemory::commit(const ParameterLayout& layout, const Message& delivered) {
  residual_.swap(corrected_);  // e = p, then minus what was delivered; compensate() rewrites p anyway
  for_each_entry(delivered, layout, [&](std::size_t i, float sent) { residual_[i] -= sent; });
}

ErrorFeedback::ErrorFeedback(const ParameterLayout& layout, std::unique_ptr<Compressor> inner, std::string name)
    : Compressor(layout), inner_(std::move(inner)), name_(std::move(name)), memory_(layout.size()) {}

void ErrorFeedback::compress(std::span<const float> gradient, Message& out) {
  // The inner compressor checks p = g + e, which also catches a memory that overflowed.
  check_size(gradient);
  inner_->compress(memory_.compensate(gradient), out);
}

void ErrorFeedback::commit(const Message& delivered) {
  memory_.commit(layout(), delivered);
  inner_->commit(delivered);
}

}  // namespace rnn
