#pragma once
// First-order optimizers over the flat parameter vector (g = gradient, η = learning rate):
//
//   sgd:      v ← μ v + g;  θ ← θ − η v                         (μ = 0: plain SGD)
//   adam:     m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;
//             θ ← θ − η m̂ / (√v̂ + ε),  m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ)   (Kingma & Ba 2015)
//   rmsprop:  v ← ρ v + (1−ρ) g²;  θ ← θ − η g / (√v + ε)      (Tieleman & Hinton 2012)
//
// Non-negativity is not the optimizer's business: the trainer projects after each step.
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace rnn {

enum class OptimizerKind { sgd, adam, rmsprop };

struct OptimizerOptions {
  OptimizerKind kind = OptimizerKind::adam;
  float learning_rate = 1e-3F;
  float momentum = 0.9F;  // sgd
  float beta1 = 0.9F;     // adam
  float beta2 = 0.999F;   // adam
  float rho = 0.9F;       // rmsprop
  float epsilon = 1e-7F;  // adam, rmsprop
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  virtual void step(std::span<float> params, std::span<const float> grad) = 0;
  void set_learning_rate(float lr) { options_.learning_rate = lr; }
  [[nodiscard]] float learning_rate() const { return options_.learning_rate; }

 protected:
  explicit Optimizer(const OptimizerOptions& options) : options_(options) {}
  OptimizerOptions options_;
};

[[nodiscard]] std::unique_ptr<Optimizer> make_optimizer(const OptimizerOptions& options, std::size_t parameters);
[[nodiscard]] OptimizerKind parse_optimizer(std::string_view name);  // throws rnn::Error
[[nodiscard]] std::string_view optimizer_name(OptimizerKind kind);

}  // namespace rnn
