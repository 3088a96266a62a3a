#pragma once
// The parameter server: owns the model's parameters and their version, receives encoded pushes
// and serves the parameters. One push, from bytes to a new version:
//
//   decode (codec.hpp) → validate against the layout → staleness scale per entry (step_policy.hpp:
//   plain, global or per-parameter τ) → update rule on the scaled entries (plain SGD, or momentum /
//   Adam kept at the server, lazily: untouched entries keep their state) with a per-segment step
//   multiplier → clamp non-negative segments → version + 1
//
// Every push is untrusted: one that does not decode, does not fit the layout, holds a non-finite
// value, claims a version the server has not reached, or is older than the staleness bound is
// rejected, counted under its cause, and changes nothing. receive() never throws for a push's
// content. Not thread-safe: a transport serialises the calls.
#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "rnn/compress/message.hpp"
#include "rnn/core/parameters.hpp"
#include "rnn/server/step_policy.hpp"
#include "rnn/train/optimizer.hpp"

namespace rnn {

enum class ServerRule : std::uint8_t { sgd, momentum, adam };
[[nodiscard]] ServerRule parse_server_rule(std::string_view name);  // "sgd", "momentum", "adam"
[[nodiscard]] std::string_view to_string(ServerRule rule);

struct ServerOptions {
  StepPolicy policy = StepPolicy::per_parameter_staleness;
  ServerRule rule = ServerRule::sgd;
  float learning_rate = 0.05F;
  float momentum = 0.9F;                    // momentum rule
  float beta1 = 0.9F;                       // adam
  float beta2 = 0.999F;                     // adam
  float epsilon = 1e-7F;                    // adam
  bool adam_entry_bias_correction = false;  // adam: OptimizerOptions::per_entry_bias_correction
  std::size_t max_delay = 10000;
  // With momentum or Adam: the staleness scale multiplies the rule's step instead of the gradient
  // the rule is fed (ServerStep::set_update_rule).
  bool scale_rule_step = false;
  float staleness_power = 1.0F;  // s = 1 / max(1, τ)^power (ServerStep::set_staleness_power)
  // In which coordinate RNN weights (non-negative segments) take their step (nonnegative_map.hpp).
  NonNegativeMap nonnegative_map = NonNegativeMap::clamp;
  // Step multiplier per segment, matched by name prefix ("rnl" matches "rnl1.w_plus"); the first
  // match wins, unmatched segments use 1.
  std::vector<std::pair<std::string, float>> segment_multipliers;
};

// Parses "PREFIX=X,PREFIX=X…" (X finite and > 0). Throws rnn::Error naming the spec.
[[nodiscard]] std::vector<std::pair<std::string, float>> parse_segment_multipliers(std::string_view spec);

// What became of a push (StepResult: outcome, delay, entries, Σ τ_i, reason) and who sent it.
struct PushReceipt : StepResult {
  std::uint32_t worker = 0;  // as the push claims it (0 if it did not decode)
};

struct ServerCounters {
  std::array<std::uint64_t, push_outcome_count> pushes{};  // by outcome
  std::uint64_t ingress_bytes = 0;                         // every push received, rejected ones too
  [[nodiscard]] std::uint64_t received() const;
  [[nodiscard]] std::uint64_t rejected() const { return received() - applied(); }
  [[nodiscard]] std::uint64_t applied() const { return pushes[static_cast<std::size_t>(PushOutcome::applied)]; }
};

class ParameterServer {
 public:
  ParameterServer(const ParameterLayout& layout, std::vector<float> initial, const ServerOptions& options);
  ~ParameterServer();
  ParameterServer(const ParameterServer&) = delete;
  ParameterServer& operator=(const ParameterServer&) = delete;
  ParameterServer(ParameterServer&&) = delete;
  ParameterServer& operator=(ParameterServer&&) = delete;

  PushReceipt receive(std::span<const std::uint8_t> bytes);

  [[nodiscard]] std::uint64_t version() const;
  [[nodiscard]] std::span<const float> parameters() const { return params_; }
  [[nodiscard]] const ParameterLayout& layout() const { return layout_; }
  [[nodiscard]] const ServerCounters& counters() const { return counters_; }
  [[nodiscard]] const ServerOptions& options() const { return options_; }
  [[nodiscard]] float learning_rate() const { return options_.learning_rate; }
  void set_learning_rate(float learning_rate);

  // Checkpoints: parameters, version and staleness history, the update rule's state, the counters.
  // load_state reads what save_state wrote for a server of the same layout and options and throws
  // rnn::Error on anything else.
  void save_state(std::vector<std::uint8_t>& out) const;
  void load_state(wire::Reader& in);

 private:
  const ParameterLayout& layout_;
  ServerOptions options_;
  std::vector<float> params_;
  std::unique_ptr<Optimizer> rule_;  // momentum or Adam at the server; null for plain SGD
  std::unique_ptr<ServerStep> step_;
  Message message_;  // decode buffer, reused
  ServerCounters counters_;
};

}  // namespace rnn
