#include "rnn/server/parameter_server.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

#include "rnn/compress/codec.hpp"
#include "rnn/core/error.hpp"
#include "rnn/core/state_io.hpp"

namespace rnn {

ServerRule parse_server_rule(std::string_view name) {
  if (name == "sgd") return ServerRule::sgd;
  if (name == "momentum") return ServerRule::momentum;
  if (name == "adam") return ServerRule::adam;
  throw Error(fmt::format("unknown server optimizer '{}' (choose sgd, momentum or adam)", name));
}

std::string_view to_string(ServerRule rule) {
  switch (rule) {
    case ServerRule::sgd: return "sgd";
    case ServerRule::momentum: return "momentum";
    case ServerRule::adam: return "adam";
  }
  return "?";
}

std::vector<std::pair<std::string, float>> parse_segment_multipliers(std::string_view spec) {
  std::vector<std::pair<std::string, float>> out;
  while (!spec.empty()) {
    const auto comma = spec.find(',');
    const std::string_view item = spec.substr(0, comma);
    const auto eq = item.find('=');
    float value = 0.0F;
    if (eq == std::string_view::npos || eq == 0)
      throw Error(fmt::format("segment multiplier '{}': expected PREFIX=X", item));
    const std::string_view number = item.substr(eq + 1);
    const auto [ptr, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
    if (ec != std::errc() || ptr != number.data() + number.size() || !(value > 0.0F) || !std::isfinite(value))
      throw Error(fmt::format("segment multiplier '{}': X must be a finite number > 0", item));
    out.emplace_back(std::string(item.substr(0, eq)), value);
    if (comma == std::string_view::npos) break;
    spec.remove_prefix(comma + 1);
  }
  return out;
}

std::uint64_t ServerCounters::received() const {
  return std::accumulate(pushes.begin(), pushes.end(), std::uint64_t{0});
}

ParameterServer::ParameterServer(const ParameterLayout& layout, std::vector<float> initial,
                                 const ServerOptions& options)
    : layout_(layout), options_(options), params_(std::move(initial)) {
  if (params_.size() != layout.size())
    throw Error(fmt::format("server: {} initial parameters for a layout of {}", params_.size(), layout.size()));
  step_ = std::make_unique<ServerStep>(layout, options.policy, options.learning_rate, options.max_delay);
  std::vector<float> multipliers(layout.segments().size(), 1.0F);
  for (std::size_t s = 0; s < multipliers.size(); ++s) {
    for (const auto& [prefix, value] : options.segment_multipliers) {
      if (layout.segments()[s].name.starts_with(prefix)) {
        multipliers[s] = value;
        break;
      }
    }
  }
  step_->set_segment_multipliers(multipliers);
  step_->set_nonnegative_map(options.nonnegative_map);
  step_->set_staleness_power(options.staleness_power);
  if (options.rule != ServerRule::sgd) {
    OptimizerOptions o;
    o.kind = options.rule == ServerRule::adam ? OptimizerKind::adam : OptimizerKind::sgd;
    o.learning_rate = options.learning_rate;
    o.momentum = options.momentum;
    o.beta1 = options.beta1;
    o.beta2 = options.beta2;
    o.epsilon = options.epsilon;
    o.per_entry_bias_correction = options.adam_entry_bias_correction;
    if (options.rule == ServerRule::momentum && !(o.momentum > 0.0F && o.momentum < 1.0F))
      throw Error(fmt::format("server momentum must be in (0, 1), got {}", o.momentum));
    rule_ = make_optimizer(o, layout);
    step_->set_update_rule(rule_.get(), options.scale_rule_step);
  }
}

ParameterServer::~ParameterServer() = default;

std::uint64_t ParameterServer::version() const {
  return step_->version();
}

void ParameterServer::set_learning_rate(float learning_rate) {
  options_.learning_rate = learning_rate;
  step_->set_learning_rate(learning_rate);
}

PushReceipt ParameterServer::receive(std::span<const std::uint8_t> bytes) {
  counters_.ingress_bytes += bytes.size();
  PushReceipt receipt;
  try {
    (void)decode(bytes, layout_, message_);
    static_cast<StepResult&>(receipt) = step_->apply(message_, params_);
    receipt.worker = message_.worker;
  } catch (const Error& e) {  // (decode refuses malformed bytes by throwing; apply never throws for a push)
    receipt = PushReceipt{};
    receipt.outcome = PushOutcome::malformed;
    const std::string_view what = e.what();
    const std::size_t n = std::min(what.size(), receipt.reason_text.size() - 1);
    std::copy_n(what.data(), n, receipt.reason_text.data());
    receipt.reason_text[n] = '\0';
  }
  ++counters_.pushes[static_cast<std::size_t>(receipt.outcome)];
  return receipt;
}

void ParameterServer::save_state(std::vector<std::uint8_t>& out) const {
  wire::put_floats(out, params_);
  step_->save_state(out);
  wire::put_u8(out, rule_ ? 1 : 0);
  if (rule_) rule_->save_state(out);
  for (const std::uint64_t n : counters_.pushes) wire::put_u64(out, n);
  wire::put_u64(out, counters_.ingress_bytes);
  wire::put_f32(out, options_.learning_rate);
}

void ParameterServer::load_state(wire::Reader& in) {
  std::vector<float> params = wire::get_floats(in, params_.size(), "server parameters");
  for (const Segment& s : layout_.segments()) {
    for (std::size_t i = s.offset; i < s.offset + s.size(); ++i) {
      if (!std::isfinite(params[i]) || (s.non_negative && params[i] < 0.0F))
        throw Error(fmt::format("server parameters: '{}' holds {} at index {}", s.name, params[i], i - s.offset));
    }
  }
  // The step and the rule load in place; a failure there leaves the server inconsistent, so the
  // caller discards it (a checkpoint is loaded into a fresh run or not at all).
  step_->load_state(in);
  if ((in.u8("server rule flag") != 0) != (rule_ != nullptr))
    throw Error(
        "server state: saved with another update rule (momentum or Adam at the server, or plain SGD) than this "
        "server's");
  if (rule_) rule_->load_state(in);
  ServerCounters counters;
  for (std::uint64_t& n : counters.pushes) n = in.u64("server push counters");
  counters.ingress_bytes = in.u64("server ingress bytes");
  const float learning_rate = in.f32("server learning rate");
  params_ = std::move(params);
  counters_ = counters;
  set_learning_rate(learning_rate);
}

}  // namespace rnn
