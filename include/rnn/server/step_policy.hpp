#pragma once
// The parameter server's step for one decoded push, θ_i ← θ_i − α · s_i · v_i on the pushed
// entries, with the step scale s_i set by the policy:
//   plain           s_i = 1                                  (ASGD, Comp-ASGD)
//   global          s_i = 1 / max(1, τ), τ = now − t0         (staleness-aware ASGD, Zhang, Gupta,
//                                                             Lian, Liu, IJCAI 2016)
//   per-parameter   s_i = 1 / max(1, τ_i), τ_i = intervening  (AdaComp, Hardy et al. 2017)
//                   updates that touched entry i
// then the touched entries of non-negative segments (RNN weights) are clamped at 0, and the
// server's version increments. Pushes older than max_delay are refused whatever the policy
// (bounded staleness), so every policy sees the same pushes. Once constructed, apply() does not
// allocate beyond the tracker's warm-up.
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "rnn/compress/message.hpp"
#include "rnn/core/parameters.hpp"
#include "rnn/server/staleness.hpp"

namespace rnn {

enum class StepPolicy : std::uint8_t { plain, global_staleness, per_parameter_staleness };

[[nodiscard]] StepPolicy parse_step_policy(std::string_view name);  // "plain", "global", "per-parameter"
[[nodiscard]] std::string_view to_string(StepPolicy policy);

struct StepResult {
  bool applied = false;     // false: refused as too stale
  std::uint64_t delay = 0;  // now − t0 when the push arrived
  std::size_t entries = 0;  // entries applied
  double tau_sum = 0.0;     // Σ τ_i over the applied entries (per-parameter policy), else delay · entries
};

class ServerStep {
 public:
  ServerStep(const ParameterLayout& layout, StepPolicy policy, float learning_rate, std::size_t max_delay);

  // Applies a push that decode() produced for this layout (so every block fits its segment) to
  // `params`. Throws rnn::Error, changing nothing, if the push claims a base version newer than
  // the server's; a push that was not validated against the layout is a precondition violation.
  StepResult apply(const Message& push, std::span<float> params);

  [[nodiscard]] std::uint64_t version() const { return version_; }
  [[nodiscard]] StepPolicy policy() const { return policy_; }
  [[nodiscard]] float learning_rate() const { return learning_rate_; }
  void set_learning_rate(float learning_rate) { learning_rate_ = learning_rate; }

 private:
  const ParameterLayout& layout_;
  StepPolicy policy_;
  float learning_rate_;
  std::size_t max_delay_;
  std::uint64_t version_ = 0;
  std::optional<StalenessTracker> tracker_;  // per-parameter policy only
  std::vector<std::uint32_t> tau_;           // per entry of the block being applied
};

}  // namespace rnn
