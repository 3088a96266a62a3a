#include "rnn/server/step_policy.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <utility>

#include "rnn/compress/codec.hpp"
#include "rnn/core/byte_io.hpp"
#include "rnn/core/error.hpp"
#include "rnn/core/finite.hpp"

namespace rnn {

StepPolicy parse_step_policy(std::string_view name) {
  if (name == "plain") return StepPolicy::plain;
  if (name == "global") return StepPolicy::global_staleness;
  if (name == "per-parameter") return StepPolicy::per_parameter_staleness;
  throw Error(fmt::format("unknown step policy '{}' (choose plain, global or per-parameter)", name));
}

std::string_view to_string(StepPolicy policy) {
  switch (policy) {
    case StepPolicy::plain: return "plain";
    case StepPolicy::global_staleness: return "global";
    case StepPolicy::per_parameter_staleness: return "per-parameter";
  }
  return "?";
}

NonNegativeMap parse_nonnegative_map(std::string_view name) {
  if (name == "clamp") return NonNegativeMap::clamp;
  if (name == "square") return NonNegativeMap::square;
  if (name == "softplus") return NonNegativeMap::softplus;
  throw Error(fmt::format("unknown non-negative map '{}' (choose clamp, square or softplus)", name));
}

std::string_view to_string(NonNegativeMap map) {
  switch (map) {
    case NonNegativeMap::clamp: return "clamp";
    case NonNegativeMap::square: return "square";
    case NonNegativeMap::softplus: return "softplus";
  }
  return "?";
}

std::string_view to_string(PushOutcome outcome) {
  switch (outcome) {
    case PushOutcome::applied: return "applied";
    case PushOutcome::malformed: return "malformed";
    case PushOutcome::non_finite: return "non-finite";
    case PushOutcome::from_the_future: return "from-the-future";
    case PushOutcome::too_stale: return "too-stale";
  }
  return "?";
}

namespace {

// Records a rejection in `result` (formatted into its fixed buffer: no allocation) and returns false.
template <typename... Args>
bool reject(StepResult& result, PushOutcome outcome, fmt::format_string<Args...> format, Args&&... args) {
  result.outcome = outcome;
  const std::size_t room = result.reason_text.size() - 1;
  const auto written = fmt::format_to_n(result.reason_text.data(), room, format, std::forward<Args>(args)...);
  result.reason_text[std::min(written.size, room)] = '\0';
  return false;
}

bool check_grid(const Message& push, const TensorBlock& b, const Segment& s, StepResult& result) {
  switch (b.grid) {
    case ValueGrid::none: return true;
    case ValueGrid::sign:
    case ValueGrid::levels: break;
    default:
      return reject(result, PushOutcome::malformed, "push from worker {}: block for '{}' has an unknown value grid {}",
                    push.worker, s.name, static_cast<unsigned>(b.grid));
  }
  if (b.scales.size() != bucket_count(b.count(), b.bucket)) {
    return reject(result, PushOutcome::malformed,
                  "push from worker {}: block for '{}' has {} grid scales for {} entries in buckets of {}", push.worker,
                  s.name, b.scales.size(), b.count(), b.bucket);
  }
  for (const float scale : b.scales) {
    if (!std::isfinite(scale) || std::signbit(scale)) {
      return reject(result, PushOutcome::malformed, "push from worker {}: block for '{}' has an invalid grid scale {}",
                    push.worker, s.name, scale);
    }
  }
  if (b.grid == ValueGrid::levels && (b.levels < 1 || b.levels > max_levels)) {
    return reject(result, PushOutcome::malformed, "push from worker {}: block for '{}' has {} levels (1 … {} allowed)",
                  push.worker, s.name, b.levels, max_levels);
  }
  return true;
}

// The message's index rule (first_invalid_index), as one branch-free pass the compiler
// vectorises: the common case, a valid block, costs a fraction of a nanosecond per index.
bool indices_valid(std::span<const std::uint32_t> indices, std::size_t size) {
  if (indices.empty()) return true;
  if (indices.back() >= size) return false;  // if increasing, the last is the largest
  const std::uint32_t* index = indices.data();
  std::uint32_t not_increasing = 0;
  for (std::size_t j = 1; j < indices.size(); ++j)
    not_increasing |= static_cast<std::uint32_t>(index[j] <= index[j - 1]);
  return not_increasing == 0;
}

// Everything about the push's shape: segments, order, sizes, indices, grids.
bool check_blocks(const Message& push, const ParameterLayout& layout, StepResult& result) {
  const auto& segments = layout.segments();
  for (std::size_t k = 0; k < push.blocks.size(); ++k) {
    const TensorBlock& b = push.blocks[k];
    if (b.segment >= segments.size()) {
      return reject(result, PushOutcome::malformed, "push from worker {}: block {} names segment {}, the layout has {}",
                    push.worker, k, b.segment, segments.size());
    }
    const Segment& s = segments[b.segment];
    if (k > 0 && b.segment <= push.blocks[k - 1].segment) {
      return reject(result, PushOutcome::malformed,
                    "push from worker {}: block for '{}' (segment {}) follows segment {} (each segment at most "
                    "once, in increasing order)",
                    push.worker, s.name, b.segment, push.blocks[k - 1].segment);
    }
    if (b.dense) {
      if (b.values.size() != s.size()) {
        return reject(result, PushOutcome::malformed,
                      "push from worker {}: dense block for '{}' has {} values, the tensor has {}", push.worker, s.name,
                      b.values.size(), s.size());
      }
      if (!b.indices.empty()) {
        return reject(result, PushOutcome::malformed, "push from worker {}: dense block for '{}' carries {} indices",
                      push.worker, s.name, b.indices.size());
      }
    } else {
      if (b.indices.size() != b.values.size()) {
        return reject(result, PushOutcome::malformed,
                      "push from worker {}: block for '{}' has {} indices for {} values", push.worker, s.name,
                      b.indices.size(), b.values.size());
      }
      if (!indices_valid(b.indices, s.size())) {
        const std::size_t j = first_invalid_index(b.indices, s.size());
        return reject(result, PushOutcome::malformed,
                      "push from worker {}: block for '{}': index {} at entry {} is out of range (size {}) or not "
                      "above the one before",
                      push.worker, s.name, b.indices[j], j, s.size());
      }
    }
    if (!check_grid(push, b, s, result)) return false;
  }
  return true;
}

bool check_values(const Message& push, const ParameterLayout& layout, StepResult& result) {
  for (const TensorBlock& b : push.blocks) {
    if (all_finite(b.values)) continue;
    for (std::size_t j = 0; j < b.values.size(); ++j) {
      if (!std::isfinite(b.values[j])) {
        return reject(result, PushOutcome::non_finite, "push from worker {}: block for '{}' holds {} at entry {}",
                      push.worker, layout.segments()[b.segment].name, b.values[j], j);
      }
    }
  }
  return true;
}

// What a push asks of one parameter, staged entry by entry in push order: with plain SGD (no
// rule) the new value w' = f(u(w) − α_b · s_i · v_i · dw/du), else the gradient v_i · dw/du handed to
// the rule, times s_i unless the scale is kept for the rule's step (step_scales not empty: s_i goes
// there). α_b is the learning rate times the block's segment multiplier; u, f and dw/du are the
// non-negative map's on non-negative segments (nonnegative_map.hpp) and the identity elsewhere.
// Reads the parameters only.
template <typename ScaleOf>
void stage_entries(const Message& push, const ParameterLayout& layout, float learning_rate,
                   std::span<const float> multipliers, NonNegativeMap map, bool gradient_only, ScaleOf scale_of,
                   std::span<const float> params, std::span<float> stage, std::span<float> step_scales) {
  std::size_t position = 0;
  for (const TensorBlock& block : push.blocks) {
    const Segment& segment = layout.segments()[block.segment];
    const float* theta = params.data() + segment.offset;
    const float* values = block.values.data();
    const std::uint32_t* indices = block.indices.data();
    const std::size_t count = block.values.size();
    const bool dense = block.dense;
    const bool mapped = segment.non_negative && map != NonNegativeMap::clamp;
    const auto gradient = [&](std::size_t j) {
      return mapped ? values[j] * nonnegative::derivative(map, theta[dense ? j : indices[j]]) : values[j];
    };
    if (!step_scales.empty()) {
      for (std::size_t j = 0; j < count; ++j) {
        stage[position + j] = gradient(j);
        step_scales[position + j] = scale_of(position + j);
      }
    } else if (gradient_only) {
      for (std::size_t j = 0; j < count; ++j) stage[position + j] = scale_of(position + j) * gradient(j);
    } else {
      const float rate = learning_rate * multipliers[block.segment];
      for (std::size_t j = 0; j < count; ++j) {
        const float old = theta[dense ? j : indices[j]];
        if (mapped) {
          const float u = nonnegative::coordinate(map, old) - rate * scale_of(position + j) * gradient(j);
          stage[position + j] = nonnegative::weight(map, u);
        } else {
          stage[position + j] = old - rate * scale_of(position + j) * values[j];
        }
      }
    }
    position += count;
  }
}

// Writes the staged new values, clamped at 0 on non-negative segments. The same values that were
// checked: each step is evaluated once.
void write_values(const Message& push, const ParameterLayout& layout, std::span<const float> stage,
                  std::span<float> params) {
  std::size_t position = 0;
  for (const TensorBlock& block : push.blocks) {
    const Segment& segment = layout.segments()[block.segment];
    float* theta = params.data() + segment.offset;
    const std::uint32_t* indices = block.indices.data();
    const std::size_t count = block.values.size();
    const bool dense = block.dense;
    if (segment.non_negative) {
      for (std::size_t j = 0; j < count; ++j) theta[dense ? j : indices[j]] = std::max(stage[position + j], 0.0F);
    } else {
      for (std::size_t j = 0; j < count; ++j) theta[dense ? j : indices[j]] = stage[position + j];
    }
    position += count;
  }
}

// Applies a rule's steps Δ_j (times s_j if step_scales is not empty) to one block:
// w' = f(u(w) + s_j Δ_j) on non-negative segments, w + s_j Δ_j elsewhere.
void write_steps(const TensorBlock& block, const Segment& segment, NonNegativeMap map, std::span<const float> steps,
                 std::span<const float> step_scales, std::span<float> params) {
  float* theta = params.data() + segment.offset;
  const bool scaled = !step_scales.empty();
  for (std::size_t j = 0; j < steps.size(); ++j) {
    float& w = theta[block.dense ? j : block.indices[j]];
    const float step = scaled ? step_scales[j] * steps[j] : steps[j];
    if (!segment.non_negative) {
      w += step;
    } else if (map == NonNegativeMap::clamp) {
      w = std::max(0.0F, w + step);
    } else {
      w = nonnegative::weight(map, nonnegative::coordinate(map, w) + step);
    }
  }
}

}  // namespace

ServerStep::ServerStep(const ParameterLayout& layout, StepPolicy policy, float learning_rate, std::size_t max_delay)
    : layout_(layout),
      policy_(policy),
      max_delay_(max_delay),
      multipliers_(layout.segments().size(), 1.0F),
      stage_(layout.size()) {
  set_learning_rate(learning_rate);
  if (policy == StepPolicy::per_parameter_staleness) {
    // Only the per-parameter policy needs the history (32 to 320 bytes per parameter as the delays
    // grow, plus the pushes it keeps: staleness.hpp).
    if (max_delay > StalenessTracker::max_window) {
      throw Error(
          fmt::format("max_delay {} is above {}, the most updates the per-parameter policy's staleness history keeps",
                      max_delay, StalenessTracker::max_window));
    }
    tracker_.emplace(layout, std::max<std::size_t>(1, max_delay));
    tau_.resize(layout.size());
  }
}

void ServerStep::set_segment_multipliers(std::span<const float> multipliers) {
  if (multipliers.size() != layout_.segments().size())
    throw Error(fmt::format("{} step multipliers for {} segments", multipliers.size(), layout_.segments().size()));
  for (const float m : multipliers)
    if (!std::isfinite(m) || m < 0.0F) throw Error(fmt::format("step multipliers must be finite and >= 0, got {}", m));
  multipliers_.assign(multipliers.begin(), multipliers.end());
}

void ServerStep::set_staleness_power(float power) {
  if (!std::isfinite(power) || power < 0.0F || power > 4.0F)
    throw Error(fmt::format("staleness power must be in [0, 4], got {}", power));
  staleness_power_ = power;
}

float ServerStep::staleness_scale(double tau) const {
  if (tau <= 1.0) return 1.0F;
  if (staleness_power_ == 1.0F) return 1.0F / static_cast<float>(tau);
  return static_cast<float>(std::pow(tau, -static_cast<double>(staleness_power_)));
}

void ServerStep::set_nonnegative_map(NonNegativeMap map) {
  map_ = map;
}

void ServerStep::set_update_rule(Optimizer* rule, bool scale_rule_step) {
  rule_ = rule;
  scale_rule_step_ = rule != nullptr && scale_rule_step;
  step_scales_.assign(scale_rule_step_ ? layout_.size() : 0, 0.0F);
}

void ServerStep::set_learning_rate(float learning_rate) {
  if (!std::isfinite(learning_rate) || learning_rate < 0.0F)
    throw Error(fmt::format("server learning rate must be finite and >= 0, got {}", learning_rate));
  learning_rate_ = learning_rate;
}

// A step that came out non-finite: names the entry at `position` (in push order) in the reason.
void ServerStep::reject_step(const Message& push, std::span<const float> params, std::size_t position,
                             StepResult& result) const {
  std::size_t k = 0;
  while (position >= push.blocks[k].count()) position -= push.blocks[k++].count();
  const TensorBlock& block = push.blocks[k];
  const Segment& segment = layout_.segments()[block.segment];
  const std::size_t i = block.dense ? position : block.indices[position];
  reject(result, PushOutcome::non_finite,
         "push from worker {}: its value {} would take '{}'[{}] from {} to a non-finite value (learning rate {})",
         push.worker, block.values[position], segment.name, i, params[segment.offset + i], learning_rate_);
}

StepResult ServerStep::apply(const Message& push, std::span<float> params) {
  if (params.size() != layout_.size())
    throw Error(fmt::format("server parameters have {} entries, the layout {}", params.size(), layout_.size()));
  StepResult result;
  if (push.base_version <= version_) result.delay = version_ - push.base_version;
  if (!check_blocks(push, layout_, result) || !check_values(push, layout_, result)) return result;
  if (push.base_version > version_) {
    reject(result, PushOutcome::from_the_future, "push from worker {} claims base version {}, the server is at {}",
           push.worker, push.base_version, version_);
    return result;
  }
  if (result.delay > max_delay_) {
    reject(result, PushOutcome::too_stale, "push from worker {} is {} updates old, max_delay is {}", push.worker,
           result.delay, max_delay_);
    return result;
  }
  // From here on the push fits the layout, so it has at most one entry per parameter: tau_ and
  // stage_ hold all of them. The steps are computed into stage_ and checked before any is
  // written: one scattered read pass, one sequential check, one scattered write pass over lines
  // the read brought into the cache.
  const std::size_t entries = push.entry_count();
  const bool gradient_only = rule_ != nullptr;
  const std::span<float> scales =
      gradient_only && scale_rule_step_ ? std::span<float>(step_scales_.data(), entries) : std::span<float>{};
  switch (policy_) {
    case StepPolicy::plain:
      stage_entries(
          push, layout_, learning_rate_, multipliers_, map_, gradient_only, [](std::size_t) { return 1.0F; }, params,
          stage_, scales);
      break;
    case StepPolicy::global_staleness: {
      const float scale = staleness_scale(static_cast<double>(result.delay));
      stage_entries(
          push, layout_, learning_rate_, multipliers_, map_, gradient_only, [scale](std::size_t) { return scale; },
          params, stage_, scales);
      break;
    }
    case StepPolicy::per_parameter_staleness: {
      // τ of every entry, from the history before this push, counted as the push is recorded (one
      // pass over the history's records); taken back below if a step is not finite. The masks
      // answer this delay alone from now on (widened, rarely, if it is the largest yet). Both
      // calls throw only for lack of memory, and change nothing then.
      tracker_->reserve_delay(result.delay);
      tracker_->count_and_record(push, push.base_version, std::span(tau_.data(), entries));
      const auto scale_of = [this](std::size_t p) { return staleness_scale(tau_[p]); };
      stage_entries(push, layout_, learning_rate_, multipliers_, map_, gradient_only, scale_of, params, stage_, scales);
      break;
    }
  }
  const std::span<const float> staged(stage_.data(), entries);
  if (!all_finite(staged)) {
    if (tracker_) tracker_->undo_record();
    const std::size_t position = static_cast<std::size_t>(
        std::find_if(staged.begin(), staged.end(), [](float v) { return !std::isfinite(v); }) - staged.begin());
    reject_step(push, params, position, result);
    return result;
  }
  if (rule_ != nullptr) {
    // The rule's steps from the staged gradients, in place; its state (momentum, moments) advances
    // only for the entries the push carries. From finite gradients and parameters it cannot make a
    // non-finite value short of an overflow near FLT_MAX.
    rule_->set_learning_rate(learning_rate_);
    rule_->begin_step();
    std::size_t position = 0;
    for (const TensorBlock& block : push.blocks) {
      const Segment& segment = layout_.segments()[block.segment];
      const std::span<const std::uint32_t> indices =
          block.dense ? std::span<const std::uint32_t>{} : std::span<const std::uint32_t>(block.indices);
      const std::span<float> steps(stage_.data() + position, block.count());
      rule_->step_entries(params, segment.offset, indices, steps, multipliers_[block.segment], steps);
      write_steps(block, segment, map_, steps, scales.empty() ? scales : scales.subspan(position, block.count()),
                  params);
      position += block.count();
    }
  } else {
    write_values(push, layout_, staged, params);
  }
  result.entries = entries;
  if (tracker_) {
    for (std::size_t p = 0; p < entries; ++p) result.tau_sum += tau_[p];
  } else {
    result.tau_sum = static_cast<double>(result.delay) * static_cast<double>(entries);
  }
  ++version_;
  return result;
}

namespace {
constexpr std::string_view server_state_tag = "rnnl server step 1";
}  // namespace

// Layout (rnn/core/byte_io.hpp): string server_state_tag, u8 policy, u64 max_delay, f32 learning
// rate, u64 version, then the staleness tracker's state for the per-parameter policy.
void ServerStep::save_state(std::vector<std::uint8_t>& out) const {
  wire::put_string(out, server_state_tag);
  wire::put_u8(out, static_cast<std::uint8_t>(policy_));
  wire::put_u64(out, max_delay_);
  wire::put_f32(out, learning_rate_);
  wire::put_u64(out, version_);
  if (tracker_) tracker_->save_state(out);
}

void ServerStep::load_state(wire::Reader& in) {
  if (in.string("server state tag") != server_state_tag)
    throw Error("server state: not a server step's state (wrong tag)");
  const std::uint8_t policy = in.u8("step policy");
  if (policy != static_cast<std::uint8_t>(policy_)) {
    const std::string_view saved =
        policy <= static_cast<std::uint8_t>(StepPolicy::per_parameter_staleness) ? to_string(StepPolicy{policy}) : "?";
    throw Error(fmt::format("server state: saved with step policy {} ({}), this server's is {}", policy, saved,
                            to_string(policy_)));
  }
  const std::uint64_t max_delay = in.u64("max_delay");
  if (max_delay != max_delay_) {
    throw Error(fmt::format("server state: saved with max_delay {}, this server's is {}", max_delay, max_delay_));
  }
  const float learning_rate = in.f32("learning rate");
  if (!std::isfinite(learning_rate) || learning_rate < 0.0F) {
    throw Error(fmt::format("server state: learning rate {} is not finite and >= 0", learning_rate));
  }
  const std::uint64_t version = in.u64("version");
  if (tracker_) {
    // Loaded beside the current one, so that a refused state leaves this server as it was.
    StalenessTracker loaded(layout_, tracker_->window());
    loaded.load_state(in);
    if (loaded.version() != version) {
      throw Error(fmt::format("server state: version {}, but its staleness history is at version {}", version,
                              loaded.version()));
    }
    *tracker_ = std::move(loaded);
  }
  learning_rate_ = learning_rate;
  version_ = version;
}

}  // namespace rnn
