#pragma once
// First-order optimizers over the flat parameter vector (g = gradient, η = learning rate):
//
//   sgd:      v ← μ v + g;  θ ← θ − η v                         (μ = 0: plain SGD)
//   adam:     m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;
//             θ ← θ − η m̂ / (√v̂ + ε),  m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ)   (Kingma & Ba 2015)
//   rmsprop:  v ← ρ v + (1−ρ) g²;  θ ← θ − η g / (√v + ε)      (Tieleman & Hinton 2012)
//
// Built from a ParameterLayout, an optimizer also projects the non-negative segments onto
// [0, ∞) in the same pass over memory (θ ← max(0, θ − step)): the update is memory-bound, so
// a separate projection pass would cost as much again.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "rnn/core/byte_io.hpp"
#include "rnn/core/parameters.hpp"

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
  // adam, step_entries only: correct each entry's moments for the number of updates that entry has
  // had (1 − βⁿ), instead of the number of steps t. A lazily updated entry touched n ≪ t times
  // otherwise steps by up to ~3–6 η on its first updates (m and v start from 0 and are not
  // corrected). Costs 4 bytes per parameter.
  bool per_entry_bias_correction = false;
};

// One part of a gradient that is a weighted sum: g = Σ weight · grad[i]. Data-parallel training
// hands the optimizer each thread's share instead of summing them in a separate memory pass.
struct GradientShare {
  const float* grad = nullptr;
  float weight = 1.0F;
};

// A contiguous run of parameters updated alike.
struct ParameterRange {
  std::size_t begin = 0;
  std::size_t end = 0;
  bool non_negative = false;
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  // Updates params in place (and projects the non-negative ranges).
  void step(std::span<float> params, std::span<const float> grad);
  // The same with g = Σ shares[s].weight · shares[s].grad (each of params.size() entries).
  void step(std::span<float> params, std::span<const GradientShare> shares);

  // A step in parts, for updating each layer as soon as its gradient is complete: begin_step()
  // once (from one thread; it fixes the step's constants, learning rate included), then update()
  // and update_block() over disjoint ranges that together cover every parameter once. The result
  // is bit-identical to step(): update() to step(params, shares) with the same shares, and
  // update_block() to step(params, grad) with the blocks' gradient. update() work-shares its loops
  // without a closing barrier: inside an OpenMP parallel region every thread of the team must make
  // the same calls with the same arguments, and the entries are only final after the team's next
  // barrier; outside a region it runs whole on the caller's thread.
  virtual void begin_step() = 0;
  virtual void update(std::span<float> params, std::span<const GradientShare> shares, std::size_t first,
                      std::size_t last) = 0;
  // The same step's update of parameters [first, first + block.size()) with gradient `block`
  // (block[0] belongs to parameter `first`), run by the calling thread alone: threads that split
  // the parameters between them (Layer::split_gradient) call it concurrently on disjoint ranges.
  // Unchecked, like update().
  virtual void update_block(std::span<float> params, std::size_t first, std::span<const float> block) = 0;
  // A lazy sparse step for a parameter server applying pushes: each listed entry offset +
  // indices[j] (or offset + j for every j when `indices` is empty) advances its own state with
  // gradient gradient[j], and steps[j] receives the step the rule makes for it, times lr_scale
  // (the caller applies θ ← θ + steps[j], and whatever constraint it keeps). Entries not listed
  // keep their state (lazy momentum and moments). params is read, not written; steps may be the
  // gradient's own storage. Indices are unchecked (the caller validated them), like update().
  virtual void step_entries(std::span<const float> params, std::size_t offset, std::span<const std::uint32_t> indices,
                            std::span<const float> gradient, float lr_scale, std::span<float> steps) = 0;
  // Throws unless params has this optimizer's size and every share has data.
  void check_size(std::span<float> params, std::span<const GradientShare> shares) const;

  // Checkpoints: the learning rate, the step count and every per-parameter buffer (momentum,
  // moments). load_state reads what save_state wrote for an optimizer of the same kind and size,
  // and throws rnn::Error, changing nothing, on anything else.
  virtual void save_state(std::vector<std::uint8_t>& out) const = 0;
  virtual void load_state(wire::Reader& in) = 0;

  void set_learning_rate(float lr) { options_.learning_rate = lr; }
  [[nodiscard]] float learning_rate() const { return options_.learning_rate; }

 protected:
  Optimizer(const OptimizerOptions& options, std::vector<ParameterRange> ranges, std::size_t size)
      : options_(options), ranges_(std::move(ranges)), size_(size) {}
  OptimizerOptions options_;
  std::vector<ParameterRange> ranges_;
  std::size_t size_ = 0;
};

// Parameters laid out by `layout`; its non-negative segments stay non-negative. (There is no
// layout-free overload: an optimizer built without the layout would let RNN weights go negative.)
[[nodiscard]] std::unique_ptr<Optimizer> make_optimizer(const OptimizerOptions& options, const ParameterLayout& layout);
[[nodiscard]] OptimizerKind parse_optimizer(std::string_view name);  // throws rnn::Error
[[nodiscard]] std::string_view optimizer_name(OptimizerKind kind);

}  // namespace rnn
