#pragma once
// Gelenbe's classic feedforward Random Neural Network (docs/math.md §3) as one layer: the whole
// layered network, because adjacent layers are coupled — a hidden neuron's firing rate is the
// sum of its outgoing weights, so layer l's outputs depend on layer l+1's weights.
//
//   input layer:  Λ = max(x, 0), λ = max(−x, 0),  q⁰ = min(1, Λ / (r⁰ + λ))
//                 (the classic convention; an input neuron with only inhibitory arrivals stays
//                 at q⁰ = 0, so negative inputs act like zeros)
//   layer l ≥ 1:  N = q^{l−1} W⁺_{l−1},  D = r^l + q^{l−1} W⁻_{l−1},  q^l = min(1, N / max(ε, D))
//   rates:        r^l_j = Σ_k (W⁺_l + W⁻_l)(j, k) for l < L;  the output layer fires at a fixed rate
//   output:       y = q^L
// Backward, δ = ∂E/∂q, m = [q < 1] (a saturated neuron passes nothing back), per layer l ≥ 1:
//   a = δ ∘ m / D,  b = −δ ∘ q ∘ m / D
//   ∂E/∂W⁺_{l−1} = q^{l−1}ᵀ a,  ∂E/∂W⁻_{l−1} = q^{l−1}ᵀ b,  δ^{l−1} = a W⁺ᵀ + b W⁻ᵀ
// and, because r^l_j sums row j of W_l, every entry of that row also gets Σ_batch b^l_j (the
// input layer's b included). Each W±_l is n_l × n_{l+1}, non-negative, projected after steps.
//
// Initialisation: W⁺_l ~ U[0, 2g / ((1+κ_l) n_{l+1})], W⁻_l ~ U[0, 2g κ_l / ((1+κ_l) n_{l+1})],
// g = init_gain, so every firing rate r^l (a row sum of both) starts near g. κ_l = 1 for hidden
// layers; for the output layer κ = output_inhibition. Why: an output's N and its D − r_L are sums
// over the whole last hidden layer, both large next to the classic r_L = 0.1, so with κ = 1
// q_L ≈ N / (r_L + M) ≈ 1, and every output whose N − M exceeds r_L by chance is saturated for
// nearly every input (no gradient: training stalls until the hidden layer drifts it back). With
// κ = 2 the expected inhibition is twice the excitation: q_L starts below 1/2, and saturation at
// initialisation takes a deviation of N − M of several standard deviations.
#include <vector>

#include "rnn/layers/layer.hpp"
#include "rnn/layers/rnl.hpp"

namespace rnn {

struct GelenbeFeedforwardOptions {
  float output_rate = 0.1F;        // firing rate of the output neurons (0.1 in public implementations)
  float init_gain = 1.0F;          // each hidden and input neuron starts with r ≈ gain
  float output_inhibition = 2.0F;  // κ: output layer's initial mean W⁻ / mean W⁺ (1: both alike)
};

class GelenbeFeedforward final : public Layer {
 public:
  // The same floor on a neuron's denominator as the Random Neural Layer's (float steady states).
  static constexpr float kMinDenominator = RandomNeuralLayer::kMinDenominator;

  // sizes: input, hidden…, output (at least input and output).
  explicit GelenbeFeedforward(std::vector<int> sizes, GelenbeFeedforwardOptions options = {});

  [[nodiscard]] std::string_view kind() const override { return "gelenbe_ff"; }
  [[nodiscard]] std::string describe() const override;
  [[nodiscard]] Shape input_shape() const override { return {1, 1, sizes_.front()}; }
  [[nodiscard]] Shape output_shape() const override { return {1, 1, sizes_.back()}; }

  void declare_parameters(ParameterLayout& layout, const std::string& prefix) override;
  void initialise(std::span<float> params, Rng& rng) const override;
  void forward(std::span<const float> params, const Matrix& x, Matrix& y, LayerState* state,
               bool training) const override;
  void backward(std::span<const float> params, const Matrix& x, const Matrix& y, const Matrix& dy, Matrix* dx,
                std::span<float> grad, LayerState* state) const override;

 protected:
  [[nodiscard]] std::unique_ptr<LayerState> create_state(std::uint64_t stream) const override;

 private:
  [[nodiscard]] std::size_t layers() const { return sizes_.size() - 1; }  // weight matrices
  [[nodiscard]] ConstMatrixMap weights(std::span<const float> params, std::size_t l, bool plus) const;

  std::vector<int> sizes_;
  GelenbeFeedforwardOptions options_;
  std::vector<std::size_t> offsets_;  // per weight matrix l: W⁺_l, then W⁻_l right after
};

}  // namespace rnn
