#pragma once
// Random Neural Layer (Hardy, Le Merrer, Rubino, Sericola, NIPS 2017 workshop): the steady
// state of a layer of Gelenbe random neurons with unit firing rate, fed by the previous
// layer's outputs as arrival rates. Drop-in replacement for a dense layer, no bias:
//
//   N = x W⁺        D = max(ε, 1 + x W⁻)        y = N / D                (element-wise)
//   a = g / D       b = −g ∘ y / D                                      (g = ∂L/∂y; b = 0 where D hit ε)
//   ∂L/∂W⁺ = xᵀ a   ∂L/∂W⁻ = xᵀ b   ∂L/∂x = a W⁺ᵀ + b W⁻ᵀ
//
// W⁺, W⁻ ≥ 0, in x out each. Dense inputs run as GEMMs (forward 2, backward up to 4) with the
// element-wise parts fused into one pass. Sparse inputs (raw pixels: ~80 % zeros on MNIST)
// run as sparse-times-dense products over the non-zeros only, forward and for ∂L/∂W±.
// ∂L/∂W± = Σ over batch rows, so the layer splits its gradient (Layer::split_gradient) by rows of
// W±: a block of rows i of both is Σ_s w_s X_s[:, i]ᵀ (a_s, b_s) over the shards s.
#include "rnn/layers/layer.hpp"

namespace rnn {

enum class RnlInit {
  scaled_uniform,  // W± ~ U[0, gain / sqrt(fan_in)]  (default, gain 0.8)
  keras_uniform,   // W± ~ U[0, 0.2]  (the RNL authors' Keras code)
};

struct RnlOptions {
  RnlInit init = RnlInit::scaled_uniform;
  float gain = 0.8F;
};

class RandomNeuralLayer final : public Layer {
 public:
  static constexpr float kMinDenominator = 1e-6F;
  // Inputs with at most this fraction of non-zeros take the sparse path.
  static constexpr double kSparseDensity = 0.3;

  RandomNeuralLayer(int inputs, int outputs, RnlOptions options = {});

  [[nodiscard]] std::string_view kind() const override { return "rnl"; }
  [[nodiscard]] std::string describe() const override;
  [[nodiscard]] Shape input_shape() const override { return {1, 1, inputs_}; }
  [[nodiscard]] Shape output_shape() const override { return {1, 1, outputs_}; }

  void declare_parameters(ParameterLayout& layout, const std::string& prefix) override;
  void initialise(std::span<float> params, Rng& rng) const override;
  [[nodiscard]] std::unique_ptr<LayerState> create_state(std::uint64_t stream) const override;
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
  int inputs_;
  int outputs_;
  RnlOptions options_;
  std::size_t weights_offset_ = 0;  // set by declare_parameters: W⁺ then W⁻, contiguous
};

}  // namespace rnn
