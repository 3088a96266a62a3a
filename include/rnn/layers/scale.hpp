#pragma once
// Fixed output scaling, y = s·x, ∂L/∂x = s·g. Maps an RNL's excitation probabilities
// (in [0, ∞), mostly below 1) to logits wide enough for a softmax to become confident.
#include "rnn/layers/layer.hpp"

namespace rnn {

class Scale final : public Layer {
 public:
  Scale(float factor, Shape shape) : factor_(factor), shape_(shape) {}

  [[nodiscard]] std::string_view kind() const override { return "scale"; }
  [[nodiscard]] std::string describe() const override;
  [[nodiscard]] Shape input_shape() const override { return shape_; }
  [[nodiscard]] Shape output_shape() const override { return shape_; }
  [[nodiscard]] float factor() const { return factor_; }

  void forward(std::span<const float> params, const Matrix& x, Matrix& y, LayerState* state,
               bool training) const override;
  void backward(std::span<const float> params, const Matrix& x, const Matrix& y, const Matrix& dy, Matrix* dx,
                std::span<float> grad, LayerState* state) const override;

 private:
  float factor_;
  Shape shape_;
};

}  // namespace rnn
