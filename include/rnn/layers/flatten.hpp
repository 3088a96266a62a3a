#pragma once
// Flatten: (H, W, C) -> (1, 1, H·W·C). Samples are already stored as flat HWC rows, so this
// only changes the declared shape; values pass through unchanged in both directions.
#include "rnn/layers/layer.hpp"

namespace rnn {

class Flatten final : public Layer {
 public:
  explicit Flatten(Shape input) : input_(input) {}

  [[nodiscard]] std::string_view kind() const override { return "flatten"; }
  [[nodiscard]] std::string describe() const override { return "flatten"; }
  [[nodiscard]] Shape input_shape() const override { return input_; }
  [[nodiscard]] Shape output_shape() const override { return {1, 1, input_.size()}; }

  void forward(std::span<const float> params, const Matrix& x, Matrix& y, LayerState* state,
               bool training) const override;
  void backward(std::span<const float> params, const Matrix& x, const Matrix& y, const Matrix& dy, Matrix* dx,
                std::span<float> grad, LayerState* state) const override;

 private:
  Shape input_;
};

}  // namespace rnn
