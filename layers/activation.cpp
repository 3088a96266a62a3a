#include "rnn/layers/activation.hpp"

namespace rnn {

std::string_view Activation::kind() const {
  switch (kind_) {
    case ActivationKind::relu: return "relu";
    case ActivationKind::sigmoid: return "sigmoid";
    case ActivationKind::tanh: return "tanh";
  }
  return "activation";
}

void Activation::forward(std::span<const float> /*params*/, const Matrix& x, Matrix& y, LayerState* /*state*/,
                         bool /*training*/) const {
  y.resize(x.rows(), x.cols());
  switch (kind_) {
    case ActivationKind::relu: y = x.cwiseMax(0.0F); break;
    case ActivationKind::sigmoid: y = (1.0F + (-x.array()).exp()).inverse(); break;
    case ActivationKind::tanh: y = x.array().tanh(); break;
  }
}

void Activation::backward(std::span<const float> /*params*/, const Matrix& /*x*/, const Matrix& y, const Matrix& dy,
                          Matrix* dx, std::span<float> /*grad*/, LayerState* /*state*/) const {
  if (dx == nullptr) return;
  dx->resize(y.rows(), y.cols());
  switch (kind_) {
    case ActivationKind::relu: *dx = (y.array() > 0.0F).select(dy, 0.0F); break;
    case ActivationKind::sigmoid: *dx = dy.array() * y.array() * (1.0F - y.array()); break;
    case ActivationKind::tanh: *dx = dy.array() * (1.0F - y.array().square()); break;
  }
}

}  // namespace rnn
