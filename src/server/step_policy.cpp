#include "rnn/server/step_policy.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "rnn/core/error.hpp"

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

namespace {

std::size_t largest_segment(const ParameterLayout& layout) {
  std::size_t largest = 0;
  for (const auto& s : layout.segments()) largest = std::max(largest, s.size());
  return largest;
}

}  // namespace

ServerStep::ServerStep(const ParameterLayout& layout, StepPolicy policy, float learning_rate, std::size_t max_delay)
    : layout_(layout),
      policy_(policy),
      learning_rate_(learning_rate),
      max_delay_(max_delay),
      tau_(policy == StepPolicy::per_parameter_staleness ? largest_segment(layout) : 0) {
  // Only the per-parameter policy needs the history (and its memory, ~16 bytes per parameter).
  if (policy == StepPolicy::per_parameter_staleness) tracker_.emplace(layout, std::max<std::size_t>(1, max_delay));
}

StepResult ServerStep::apply(const Message& push, std::span<float> params) {
  if (params.size() != layout_.size())
    throw Error(fmt::format("server parameters have {} entries, the layout {}", params.size(), layout_.size()));
  if (push.base_version > version_)
    throw Error(fmt::format("push from worker {} claims version {}, the server is at {}", push.worker,
                            push.base_version, version_));
  StepResult result;
  result.delay = version_ - push.base_version;
  if (result.delay > max_delay_) return result;
  result.applied = true;

  const bool per_parameter = policy_ == StepPolicy::per_parameter_staleness;
  const float global_scale = policy_ == StepPolicy::global_staleness
                                 ? 1.0F / static_cast<float>(std::max<std::uint64_t>(1, result.delay))
                                 : 1.0F;
  if (per_parameter) tracker_->begin_update();
  for (const auto& block : push.blocks) {
    const Segment& segment = layout_.segment(block.segment);
    float* theta = params.data() + segment.offset;
    const std::size_t count = block.count();
    const std::span<std::uint32_t> tau(tau_.data(), per_parameter ? count : 0);
    if (per_parameter) {
      if (block.dense) {
        tracker_->staleness_dense(push.base_version, block.segment, tau);
        tracker_->touch_dense(block.segment);
      } else {
        tracker_->staleness(push.base_version, block.segment, block.indices, tau);
        tracker_->touch(block.segment, block.indices);
      }
    }
    for (std::size_t j = 0; j < count; ++j) {
      const std::size_t i = block.dense ? j : block.indices[j];
      float scale = global_scale;
      if (per_parameter) {
        scale = 1.0F / static_cast<float>(std::max<std::uint32_t>(1, tau[j]));
        result.tau_sum += tau[j];
      }
      float updated = theta[i] - learning_rate_ * scale * block.values[j];
      if (segment.non_negative) updated = std::max(updated, 0.0F);
      theta[i] = updated;
    }
    result.entries += count;
  }
  if (per_parameter)
    tracker_->end_update();
  else
    result.tau_sum = static_cast<double>(result.delay) * static_cast<double>(result.entries);
  ++version_;
  return result;
}

}  // namespace rnn
