#include "rnn/layers/dropout.hpp"

#include <fmt/format.h>

#include "rnn/core/error.hpp"

namespace rnn {
namespace {

struct DropoutState final : LayerState {
  explicit DropoutState(Rng r) : rng(r) {}
  Rng rng;
  Matrix mask;  // 0 or 1/(1−p); empty after an evaluation-mode forward
};

}  // namespace

Dropout::Dropout(float rate, Shape shape, std::uint64_t seed) : rate_(rate), shape_(shape), seed_(seed) {
  if (!(rate >= 0.0F && rate < 1.0F)) throw Error(fmt::format("dropout rate must be in [0, 1), got {}", rate));
}

std::string Dropout::describe() const {
  return fmt::format("dropout {}", rate_);
}

std::unique_ptr<LayerState> Dropout::create_state(std::uint64_t stream) const {
  return std::make_unique<DropoutState>(Rng(seed_, 0x0D0D + stream));
}

void Dropout::reseed(LayerState* state, std::uint64_t stream) const {
  static_cast<DropoutState&>(*state).rng = Rng(seed_, 0x0D0D + stream);
}

void Dropout::forward(std::span<const float> /*params*/, const Matrix& x, Matrix& y, LayerState* state,
                      bool training) const {
  auto& st = static_cast<DropoutState&>(*state);
  if (!training || rate_ == 0.0F) {
    st.mask.resize(0, 0);
    y = x;
    return;
  }
  const float keep_scale = 1.0F / (1.0F - rate_);
  st.mask.resize(x.rows(), x.cols());
  float* m = st.mask.data();
  for (Eigen::Index i = 0; i < st.mask.size(); ++i) m[i] = st.rng.uniform() < rate_ ? 0.0F : keep_scale;
  y.resize(x.rows(), x.cols());
  y = x.cwiseProduct(st.mask);
}

void Dropout::backward(std::span<const float> /*params*/, const Matrix& /*x*/, const Matrix& /*y*/, const Matrix& dy,
                       Matrix* dx, std::span<float> /*grad*/, LayerState* state) const {
  if (dx == nullptr) return;
  const auto& st = static_cast<const DropoutState&>(*state);
  if (st.mask.size() == 0) {
    *dx = dy;
  } else {
    dx->resize(dy.rows(), dy.cols());
    *dx = dy.cwiseProduct(st.mask);
  }
}

}  // namespace rnn
