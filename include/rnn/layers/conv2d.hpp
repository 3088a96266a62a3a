#pragma once
// 2-D convolution, 3x3 kernel, stride 1, SAME (zero) padding, channels-last, as one GEMM
// over the whole batch (im2col):
//
//   P = im2col(x)                    (batch·H·W) x (9·C_in), columns ordered (ky, kx, c)
//   Y = P Wᵀ + b                     W: C_out x 9·C_in, b: C_out; Y viewed as batch x (H·W·C_out)
//   ∂L/∂W = Gᵀ P    ∂L/∂b = Σ_rows G    ∂L/∂x = col2im(G W)
#include "rnn/layers/init.hpp"
#include "rnn/layers/layer.hpp"

namespace rnn {

class Conv2D final : public Layer {
 public:
  static constexpr int kKernel = 3;

  Conv2D(Shape input, int filters, AffineInit init = {});

  [[nodiscard]] std::string_view kind() const override { return "conv2d"; }
  [[nodiscard]] std::string describe() const override;
  [[nodiscard]] Shape input_shape() const override { return input_; }
  [[nodiscard]] Shape output_shape() const override { return {input_.height, input_.width, filters_}; }

  void declare_parameters(ParameterLayout& layout, const std::string& prefix) override;
  void initialise(std::span<float> params, Rng& rng) const override;
  [[nodiscard]] std::unique_ptr<LayerState> create_state(std::uint64_t stream) const override;
  void forward(std::span<const float> params, const Matrix& x, Matrix& y, LayerState* state,
               bool training) const override;
  void backward(std::span<const float> params, const Matrix& x, const Matrix& y, const Matrix& dy, Matrix* dx,
                std::span<float> grad, LayerState* state) const override;

 private:
  [[nodiscard]] int patch_size() const { return kKernel * kKernel * input_.channels; }

  Shape input_;
  int filters_;
  AffineInit init_;
  std::size_t weight_offset_ = 0;
  std::size_t bias_offset_ = 0;
};

}  // namespace rnn
