#pragma once
// Element-wise activations (no parameters), computed from the cached output:
//
//   relu:    y = max(0, x)          ∂y/∂x = [y > 0]
//   sigmoid: y = 1 / (1 + e^−x)     ∂y/∂x = y (1 − y)
//   tanh:    y = tanh x             ∂y/∂x = 1 − y²
#include "rnn/layers/layer.hpp"

namespace rnn {

enum class ActivationKind { relu, sigmoid, tanh };

class Activation final : public Layer {
 public:
  Activation(ActivationKind kind, Shape shape) : kind_(kind), shape_(shape) {}

  [[nodiscard]] std::string_view kind() const override;
  [[nodiscard]] std::string describe() const override { return std::string(kind()); }
  [[nodiscard]] Shape input_shape() const override { return shape_; }
  [[nodiscard]] Shape output_shape() const override { return shape_; }

  void forward(std::span<const float> params, const Matrix& x, Matrix& y, LayerState* state,
               bool training) const override;
  void backward(std::span<const float> params, const Matrix& x, const Matrix& y, const Matrix& dy, Matrix* dx,
                std::span<float> grad, LayerState* state) const override;

 private:
  ActivationKind kind_;
  Shape shape_;
};

}  // namespace rnn
