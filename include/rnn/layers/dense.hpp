#pragma once
// Fully connected layer with bias:
//
//   y = x Wᵀ + b                                     W: out x in, b: out
//   ∂L/∂W = gᵀ x     ∂L/∂b = Σ_rows g     ∂L/∂x = g W
#include "rnn/layers/init.hpp"
#include "rnn/layers/layer.hpp"

namespace rnn {

class Dense final : public Layer {
 public:
  Dense(int inputs, int outputs, AffineInit init = {});

  [[nodiscard]] std::string_view kind() const override { return "dense"; }
  [[nodiscard]] std::string describe() const override;
  [[nodiscard]] Shape input_shape() const override { return {1, 1, inputs_}; }
  [[nodiscard]] Shape output_shape() const override { return {1, 1, outputs_}; }

  void declare_parameters(ParameterLayout& layout, const std::string& prefix) override;
  void initialise(std::span<float> params, Rng& rng) const override;
  void forward(std::span<const float> params, const Matrix& x, Matrix& y, LayerState* state,
               bool training) const override;
  void backward(std::span<const float> params, const Matrix& x, const Matrix& y, const Matrix& dy, Matrix* dx,
                std::span<float> grad, LayerState* state) const override;

 private:
  int inputs_;
  int outputs_;
  AffineInit init_;
  std::size_t weight_offset_ = 0;
  std::size_t bias_offset_ = 0;
};

}  // namespace rnn
