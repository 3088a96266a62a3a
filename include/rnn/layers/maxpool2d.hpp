#pragma once
// 2x2 max pooling, stride 2, channels-last (odd trailing rows/columns are dropped):
//
//   y[r, c, k] = max over the 2x2 window of x;  ∂L/∂x is g routed to the arg-max, 0 elsewhere.
#include "rnn/layers/layer.hpp"

namespace rnn {

class MaxPool2D final : public Layer {
 public:
  explicit MaxPool2D(Shape input);

  [[nodiscard]] std::string_view kind() const override { return "maxpool2d"; }
  [[nodiscard]] std::string describe() const override { return "maxpool 2x2"; }
  [[nodiscard]] Shape input_shape() const override { return input_; }
  [[nodiscard]] Shape output_shape() const override { return {input_.height / 2, input_.width / 2, input_.channels}; }

  [[nodiscard]] std::unique_ptr<LayerState> create_state(std::uint64_t stream) const override;
  void forward(std::span<const float> params, const Matrix& x, Matrix& y, LayerState* state,
               bool training) const override;
  void backward(std::span<const float> params, const Matrix& x, const Matrix& y, const Matrix& dy, Matrix* dx,
                std::span<float> grad, LayerState* state) const override;

 private:
  Shape input_;
};

}  // namespace rnn
