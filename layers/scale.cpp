#include "rnn/layers/scale.hpp"

#include <fmt/format.h>

namespace rnn {

std::string Scale::describe() const {
  return fmt::format("scale x{}", factor_);
}

void Scale::forward(std::span<const float> /*params*/, const Matrix& x, Matrix& y, LayerState* /*state*/,
                    bool /*training*/) const {
  y.resize(x.rows(), x.cols());
  y = factor_ * x;
}

void Scale::backward(std::span<const float> /*params*/, const Matrix& /*x*/, const Matrix& /*y*/, const Matrix& dy,
                     Matrix* dx, std::span<float> /*grad*/, LayerState* /*state*/) const {
  if (dx == nullptr) return;
  dx->resize(dy.rows(), dy.cols());
  *dx = factor_ * dy;
}

}  // namespace rnn
