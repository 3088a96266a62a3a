#include "rnn/compress/error_feedback.hpp"

#include "rnn/core/state_io.hpp"

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

void ResidualMemory::save_state(std::vector<std::uint8_t>& out) const {
  wire::put_floats(out, residual());
}

std::vector<float> ResidualMemory::read_state(wire::Reader& in) const {
  return wire::get_floats(in, residual_.size(), "residual memory");
}

void ResidualMemory::take_state(std::vector<float> residual) {
  residual_ = std::move(residual);
  open_ = false;
}

void ErrorFeedback::save_state(std::vector<std::uint8_t>& out) const {
  memory_.save_state(out);
  inner_->save_state(out);
}

void ErrorFeedback::load_state(wire::Reader& in) {
  std::vector<float> residual = memory_.read_state(in);
  inner_->load_state(in);  // (changes nothing if it throws)
  memory_.take_state(std::move(residual));
}

}  // namespace rnn
