#pragma once
// The parameter server's step for one push, θ_i ← θ_i − α · s_i · v_i on the pushed entries,
// with the step scale s_i set by the policy:
//   plain           s_i = 1                                  (ASGD, Comp-ASGD)
//   global          s_i = 1 / max(1, τ), τ = now − t0         (staleness-aware ASGD, Zhang, Gupta,
//                                                             Lian, Liu, IJCAI 2016)
//   per-parameter   s_i = 1 / max(1, τ_i), τ_i = intervening  (AdaComp, Hardy et al. 2017)
//                   updates that touched entry i
// (the exponent of τ is set_staleness_power's, 1 by default), then the touched entries of
// non-negative segments (RNN weights) are clamped at 0, and the server's version increments.
// Pushes older than max_delay are refused whatever the policy (bounded staleness), so every policy
// sees the same pushes. Options (docs/math.md §8.2): an update rule with state (momentum, Adam)
// in place of plain SGD, fed s_i · v_i or fed v_i with s_i scaling its step; non-negative
// segments stepped in another coordinate than w (nonnegative_map.hpp); per-segment multipliers.
//
// Every push is untrusted, whoever built or decoded it. apply() checks the whole push before it
// changes anything: a push is applied entirely or not at all. A rejected push leaves the
// parameters, the version and the staleness history exactly as they were, and the server goes on
// serving. The checks, in this order; the first that fails gives the outcome:
//   malformed        a block names a segment outside the layout; blocks are not in strictly
//                    increasing segment order (so a segment appears twice); a dense block does not
//                    hold exactly its segment's size in values, or carries indices; a sparse block
//                    has a different number of indices and values, or indices that are not strictly
//                    increasing below its segment's size (so an index appears twice); a grid field
//                    is invalid (unknown grid, scale not finite and ≥ 0, levels outside 1 … max_levels)
//   non_finite       a value is NaN or ±inf
//   from_the_future  the base version is newer than the server's
//   too_stale        the delay now − t0 exceeds max_delay
//   non_finite       the step would make a touched parameter non-finite (an overflow, or a
//                    parameter that already was)
// apply() never throws for what a push holds: it returns the outcome and a one-line reason, so a
// caller counts rejections by cause (outcome) and logs them (reason). It throws rnn::Error only for
// the caller's mistakes (a parameter span of the wrong size) and when memory runs out while the
// per-parameter history grows; nothing changes then either. Once warm (every slot of the
// staleness ring has held a push as large, and a push as old has been applied), apply() does not
// allocate, whatever the outcome.
//
// Memory: 4 bytes per parameter for the staged steps (computed and checked before any is
// written), 4 more when s_i scales a rule's step; the per-parameter policy adds 4 for τ and its
// history (staleness.hpp).
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "rnn/compress/message.hpp"
#include "rnn/core/byte_io.hpp"
#include "rnn/core/parameters.hpp"
#include "rnn/server/nonnegative_map.hpp"
#include "rnn/server/staleness.hpp"
#include "rnn/train/optimizer.hpp"

namespace rnn {

enum class StepPolicy : std::uint8_t { plain, global_staleness, per_parameter_staleness };

[[nodiscard]] StepPolicy parse_step_policy(std::string_view name);  // "plain", "global", "per-parameter"
[[nodiscard]] std::string_view to_string(StepPolicy policy);

// What became of a push. The values index arrays of counters: 0 … push_outcome_count − 1.
enum class PushOutcome : std::uint8_t { applied, malformed, non_finite, from_the_future, too_stale };
inline constexpr std::size_t push_outcome_count = 5;
[[nodiscard]] std::string_view to_string(PushOutcome outcome);  // "applied", "malformed", "non-finite", ...

struct StepResult {
  PushOutcome outcome = PushOutcome::applied;
  std::uint64_t delay = 0;  // now − t0 when the push arrived (0 if t0 is in the future)
  std::size_t entries = 0;  // entries applied (0 if rejected)
  double tau_sum = 0.0;     // Σ τ_i over the applied entries (per-parameter policy), else delay · entries
  // Why the push was rejected, NUL-terminated, empty if applied. A fixed buffer, so that a
  // rejection allocates nothing; longer reasons are cut.
  std::array<char, 192> reason_text{};

  [[nodiscard]] bool applied() const { return outcome == PushOutcome::applied; }
  [[nodiscard]] std::string_view reason() const { return reason_text.data(); }
};

class ServerStep {
 public:
  // learning_rate: finite, ≥ 0. max_delay: with the per-parameter policy at most
  // StalenessTracker::max_window (its history keeps the last max(1, max_delay) updates, grown as
  // they come). Throws rnn::Error otherwise.
  ServerStep(const ParameterLayout& layout, StepPolicy policy, float learning_rate, std::size_t max_delay);

  // Checks `push` against the layout and the server's state and applies it, or rejects it and
  // changes nothing (see above). `params` must have the layout's size.
  StepResult apply(const Message& push, std::span<float> params);

  [[nodiscard]] std::uint64_t version() const { return version_; }
  [[nodiscard]] StepPolicy policy() const { return policy_; }
  [[nodiscard]] float learning_rate() const { return learning_rate_; }
  [[nodiscard]] std::size_t max_delay() const { return max_delay_; }
  void set_learning_rate(float learning_rate);  // finite, ≥ 0, else rnn::Error
  // The learning rate of segment s is multiplied by multipliers[s] (one per segment, finite, ≥ 0;
  // all 1 by default).
  void set_segment_multipliers(std::span<const float> multipliers);
  // A server-side update rule instead of plain SGD: each applied push hands the rule the staleness-
  // scaled values s_i · v_i of its entries as their gradient, with the segment's multiplier as a
  // learning-rate scale (Optimizer::update_entries: lazy, untouched entries keep their state). The
  // rule's learning rate is set to this step's before each push. nullptr: plain SGD. Not owned.
  // scale_rule_step: the rule gets the raw values v_i and the staleness scale s_i multiplies the
  // step it makes instead (θ_i ← θ_i + s_i · Δ_i), so an adaptive rule's moments are not skewed by
  // τ_i varying from push to push.
  void set_update_rule(Optimizer* rule, bool scale_rule_step = false);
  // The staleness scale becomes s = 1 / max(1, τ)^power (global and per-parameter policies);
  // power 1 (the default) is AdaComp's and Zhang et al.'s rule, 0 is no scaling. In [0, 4].
  void set_staleness_power(float power);
  // In which coordinate non-negative segments take their step (nonnegative_map.hpp); clamp by
  // default.
  void set_nonnegative_map(NonNegativeMap map);

  // The server's state for a checkpoint, appended to `out` (rnn::wire format): policy, max_delay,
  // learning rate, version and, for the per-parameter policy, the staleness history
  // (StalenessTracker::save_state). The parameters are the caller's to save.
  void save_state(std::vector<std::uint8_t>& out) const;
  // Replaces the learning rate, version and staleness history with a saved state, after which
  // apply() behaves bit for bit as on the server that was saved (given the same parameters).
  // The state must come from a server of the same layout, policy and max_delay. Checks
  // everything it reads and throws rnn::Error naming the problem, leaving the server unchanged.
  void load_state(wire::Reader& in);

 private:
  [[nodiscard]] float staleness_scale(double tau) const;
  void reject_step(const Message& push, std::span<const float> params, std::size_t position, StepResult& result) const;

  const ParameterLayout& layout_;
  StepPolicy policy_;
  float learning_rate_ = 0.0F;  // set through set_learning_rate, which checks it
  std::size_t max_delay_;
  std::uint64_t version_ = 0;
  std::optional<StalenessTracker> tracker_;  // per-parameter policy only
  std::vector<std::uint32_t> tau_;           // per-parameter policy: τ of every entry of the push, in order
  std::vector<float> multipliers_;           // per segment
  Optimizer* rule_ = nullptr;                // null: plain SGD
  bool scale_rule_step_ = false;
  float staleness_power_ = 1.0F;
  NonNegativeMap map_ = NonNegativeMap::clamp;  // s_i scales the rule's step, not its gradient
  std::vector<float> step_scales_;              // with scale_rule_step_: s_i of every entry of the push
  std::vector<float> stage_;  // the stepped value (or, with a rule, the scaled gradient) of every entry
};

}  // namespace rnn
