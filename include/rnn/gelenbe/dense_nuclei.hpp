#pragma once
// Dense random neural network layer ("dense nuclei"; Yin & Gelenbe, "Deep learning in multi-layer
// architectures of dense nuclei", arXiv 1609.07160; docs/math.md §5). Each output is a cluster of
// n soma-connected cells whose input z is added to its inhibitory rate; its excitation
// probability is the smaller root of a q² + b q + c = 0:
//
//   z = max(0, x W)                              W ≥ 0, in × out (inputs are rates: ≥ 0)
//   a = p(n−1)(λ⁻ + z),  b = −[(λ⁺ + r) p (n−1) + n (λ⁻ + z) + r],  c = n λ⁺
//   y = min(1, 2c / (−b + √(b² − 4ac)))           (the smaller root, in a cancellation-free form;
//                                                 above 1 only if λ⁻ < λ⁺: saturated, no gradient)
//   dy/dz = (p(n−1) y² − n y) / √(b² − 4ac)        (0 where x W < 0)
//   ∂L/∂W = xᵀ (g ∘ dy/dz),  ∂L/∂x = (g ∘ dy/dz) Wᵀ
//
// y falls from ≈ 0.98 at z = 0 to ≈ 0.05 at z = 0.1 with the authors' defaults (n = 20, p = 0.05,
// r = 0.001, λ⁺ = λ⁻ = 0.005). The authors train such clusters without gradients; here the
// closed-form derivative makes it an ordinary trainable layer.
#include "rnn/layers/layer.hpp"

namespace rnn {

struct DenseNucleiOptions {
  float cells = 20.0F;        // n
  float p = 0.05F;            // probability that a firing cell's spike reaches another cell
  float rate = 0.001F;        // r
  float excitatory = 0.005F;  // λ⁺
  float inhibitory = 0.005F;  // λ⁻
  float init_high = 0.0F;     // W ~ U[0, init_high]; 0: 0.2 / fan_in, so z starts near 0.1 · mean x
};

// y(z) and dy/dz for one cluster, shared by the layer and its tests.
struct NucleusResponse {
  float q;
  float slope;
};
[[nodiscard]] NucleusResponse nucleus_response(float z, const DenseNucleiOptions& o);

class DenseNuclei final : public Layer {
 public:
  DenseNuclei(int inputs, int outputs, DenseNucleiOptions options = {});

  [[nodiscard]] std::string_view kind() const override { return "nuclei"; }
  [[nodiscard]] std::string describe() const override;
  [[nodiscard]] Shape input_shape() const override { return {1, 1, inputs_}; }
  [[nodiscard]] Shape output_shape() const override { return {1, 1, outputs_}; }

  void declare_parameters(ParameterLayout& layout, const std::string& prefix) override;
  void initialise(std::span<float> params, Rng& rng) const override;
  void forward(std::span<const float> params, const Matrix& x, Matrix& y, LayerState* state,
               bool training) const override;
  void backward(std::span<const float> params, const Matrix& x, const Matrix& y, const Matrix& dy, Matrix* dx,
                std::span<float> grad, LayerState* state) const override;

 protected:
  [[nodiscard]] std::unique_ptr<LayerState> create_state(std::uint64_t stream) const override;

 private:
  int inputs_;
  int outputs_;
  DenseNucleiOptions options_;
  std::size_t weights_offset_ = 0;
};

}  // namespace rnn
