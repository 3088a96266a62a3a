#include "rnn/compress/error_feedback.hpp"

#include <cmath>

#include "rnn/core/error.hpp"

namespace rnn {

std::span<const float> ResidualMemory::compensate(std::span<const float> gradient) {
  if (open_) {
    residual_.swap(corrected_);  // the last push was not delivered: e = p, all of it kept
    open_ = false;
  }
  bool finite = true;
  for (std::size_t i = 0; i < gradient.size(); ++i) {
    corrected_[i] = gradient[i] + residual_[i];
    finite = finite && std::isfinite(corrected_[i]);
  }
  if (!finite) throw Error("error feedback: the gradient plus the residual is not finite (the residual overflowed)");
  open_ = true;
  return {corrected_.data(), gradient.size()};
}

void ResidualMemory::commit(const ParameterLayout& layout, const Message& delivered) {
  if (!open_) return;          // nothing compensated since the last commit: nothing was sent from here
  residual_.swap(corrected_);  // e = p, then minus what was delivered
  open_ = false;
  for_each_entry(delivered, layout, [&](std::size_t i, float sent) { residual_[i] -= sent; });
}

ErrorFeedback::ErrorFeedback(const ParameterLayout& layout, std::unique_ptr<Compressor> inner, std::string name)
    : Compressor(layout), inner_(std::move(inner)), name_(std::move(name)), memory_(layout.size()) {}

void ErrorFeedback::compress(std::span<const float> gradient, Message& out) {
  check_gradient(gradient);  // a rejected gradient must not reach the memory
  inner_->compress(memory_.compensate(gradient), out);
}

void ErrorFeedback::commit(const Message& delivered) {
  memory_.commit(layout(), delivered);
  inner_->commit(delivered);
}

}  // namespace rnn
