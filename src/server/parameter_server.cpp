#include "rnn/server/parameter_server.hpp"

#include <charconv>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

#include "rnn/compress/codec.hpp"
#include "rnn/core/error.hpp"

namespace rnn {

std::string_view to_string(PushOutcome outcome) {
  switch (outcome) {
    case PushOutcome::applied: return "applied";
    case PushOutcome::malformed: return "malformed";
    case PushOutcome::non_finite: return "non_finite";
    case PushOutcome::from_the_future: return "from_the_future";
    case PushOutcome::too_stale: return "too_stale";
  }
  return "?";
}

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
  if (options_.rule != ServerRule::sgd) throw Error("server: only the sgd rule is available");
  step_ = std::make_unique<ServerStep>(layout, options.policy, options.learning_rate, options.max_delay);
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
  } catch (const Error& e) {
    receipt.outcome = PushOutcome::malformed;
    receipt.reason = e.what();
    ++counters_.pushes[static_cast<std::size_t>(receipt.outcome)];
    return receipt;
  }
  receipt.worker = message_.worker;
  if (message_.base_version > step_->version()) {
    receipt.outcome = PushOutcome::from_the_future;
    receipt.reason =
        fmt::format("base version {} is newer than the server's {}", message_.base_version, step_->version());
  } else {
    const StepResult r = step_->apply(message_, params_);
    receipt.delay = r.delay;
    receipt.entries = r.entries;
    receipt.tau_sum = r.tau_sum;
    receipt.outcome = r.applied ? PushOutcome::applied : PushOutcome::too_stale;
    if (!r.applied) receipt.reason = fmt::format("delay {} is beyond the bound {}", r.delay, options_.max_delay);
  }
  ++counters_.pushes[static_cast<std::size_t>(receipt.outcome)];
  return receipt;
}

}  // namespace rnn
