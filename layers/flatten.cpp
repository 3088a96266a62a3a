#include "rnn/layers/flatten.hpp"

namespace rnn {

void Flatten::forward(std::span<const float> /*params*/, const Matrix& x, Matrix& y, LayerState* /*state*/,
                      bool /*training*/) const {
  y = x;
}

void Flatten::backward(std::span<const float> /*params*/, const Matrix& /*x*/, const Matrix& /*y*/, const Matrix& dy,
                       Matrix* dx, std::span<float> /*grad*/, LayerState* /*state*/) const {
  if (dx != nullptr) *dx = dy;
}

}  // namespace rnn
