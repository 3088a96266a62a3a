#pragma once
// Inverted dropout: in training, y = x ∘ m / (1 − p) with m_i ~ Bernoulli(1 − p);
// in evaluation, y = x. ∂L/∂x = g ∘ m / (1 − p). The mask stream lives in the caller's state,
// seeded from the layer's seed and the state's stream number, so runs reproduce.
#include <cstdint>

#include "rnn/layers/layer.hpp"

namespace rnn {

class Dropout final : public Layer {
 public:
  Dropout(float rate, Shape shape, std::uint64_t seed = 0);

  [[nodiscard]] std::string_view kind() const override { return "dropout"; }
  [[nodiscard]] std::string describe() const override;
  [[nodiscard]] Shape input_shape() const override { return shape_; }
  [[nodiscard]] Shape output_shape() const override { return shape_; }

  [[nodiscard]] std::unique_ptr<LayerState> create_state(std::uint64_t stream) const override;
  void reseed(LayerState* state, std::uint64_t stream) const override;
  void forward(std::span<const float> params, const Matrix& x, Matrix& y, LayerState* state,
               bool training) const override;
  void backward(std::span<const float> params, const Matrix& x, const Matrix& y, const Matrix& dy, Matrix* dx,
                std::span<float> grad, LayerState* state) const override;

 private:
  float rate_;
  Shape shape_;
  std::uint64_t seed_;
};

}  // namespace rnn
