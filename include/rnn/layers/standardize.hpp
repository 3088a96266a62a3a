#pragma once
// Per-sample standardisation (TensorFlow's per_image_standardization, the AdaComp seed CNN's
// input preprocessing). For one sample x of n values, mean μ, standard deviation σ:
//
//   s = max(σ, 1/√n)        y = (x − μ) / s
//   ∂L/∂x = (g − mean(g) − y · mean(g ∘ y)) / s      if σ > 1/√n
//   ∂L/∂x = (g − mean(g)) / s                        otherwise (s is then a constant)
#include "rnn/layers/layer.hpp"

namespace rnn {

class Standardize final : public Layer {
 public:
  explicit Standardize(Shape shape) : shape_(shape) {}

  [[nodiscard]] std::string_view kind() const override { return "standardize"; }
  [[nodiscard]] std::string describe() const override { return "per-sample standardize"; }
  [[nodiscard]] Shape input_shape() const override { return shape_; }
  [[nodiscard]] Shape output_shape() const override { return shape_; }

  [[nodiscard]] std::unique_ptr<LayerState> create_state(std::uint64_t stream) const override;
  void forward(std::span<const float> params, const Matrix& x, Matrix& y, LayerState* state,
               bool training) const override;
  void backward(std::span<const float> params, const Matrix& x, const Matrix& y, const Matrix& dy, Matrix* dx,
                std::span<float> grad, LayerState* state) const override;

 private:
  Shape shape_;
};

}  // namespace rnn
