#pragma once
// Fully connected layer with bias:
//
//   y = x Wᵀ + b                                     W: out x in, b: out
//   ∂L/∂W = gᵀ x     ∂L/∂b = Σ_rows g     ∂L/∂x = g W
//
// Both parameter gradients are sums over batch rows, so the layer splits them (Layer::
// split_gradient) by output unit: a block of rows o of W, with b_o, is Σ_s w_s g_s[:, o]ᵀ (x_s, 1).
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
  [[nodiscard]] bool splits_gradient() const override { return true; }
  void backward_input(std::span<const float> params, const Matrix& x, const Matrix& y, const Matrix& dy, Matrix* dx,
                      LayerState* state) const override;
  void split_gradient(std::span<const GradientSource> sources, std::size_t part, std::size_t parts, LayerState* scratch,
                      GradientBlockSink& sink) const override;
  void split_ranges(std::size_t part, std::size_t parts,
                    const std::function<void(std::size_t, std::size_t)>& range) const override;

 private:
  [[nodiscard]] std::unique_ptr<LayerState> create_state(std::uint64_t stream) const override;
  void input_gradient(std::span<const float> params, const Matrix& x, const Matrix& dy, Matrix* dx) const;

  int inputs_;
  int outputs_;
  AffineInit init_;
  std::size_t weight_offset_ = 0;
  std::size_t bias_offset_ = 0;
};

}  // namespace rnn
