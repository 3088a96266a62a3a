#pragma once
// What both modes of an asynchronous run share: the server behind its transport, the workers,
// the counters, the learning-rate schedule and the evaluation points.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "rnn/async/runner.hpp"
#include "rnn/async/transport.hpp"
#include "rnn/async/worker.hpp"
#include "rnn/core/byte_io.hpp"
#include "rnn/train/progress.hpp"
#include "run_metrics.hpp"

namespace rnn::async_detail {

class RunContext {
 public:
  RunContext(const Model& model, std::vector<float> initial, const DatasetPair& data, const AsyncOptions& options,
             const std::function<void(const EvalPoint&)>& on_eval);

  const Model& model;
  const DatasetPair& data;
  const AsyncOptions& options;
  ParameterServer server;
  InProcessTransport transport;
  std::vector<std::unique_ptr<Worker>> workers;
  RunMetrics metrics;
  AsyncReport report;

  [[nodiscard]] std::size_t pool_threads() const;
  [[nodiscard]] bool stop_requested() const { return options.stop != nullptr && options.stop->load(); }
  // After each applied push: the learning-rate schedule.
  void after_update();
  // After each push the server received: false once it has refused 10 per worker in a row.
  [[nodiscard]] bool progressing(const PushReceipt& receipt);
  [[nodiscard]] bool update_is_evaluation_point() const;
  // An evaluation point in two halves: begin_point() takes the counters as they are now (the state
  // whose parameters the caller then evaluates), finish_point() adds the test results, records the
  // point and returns false if the test loss is not finite (the run has diverged).
  [[nodiscard]] EvalPoint begin_point(double virtual_seconds);
  bool finish_point(EvalPoint& point, const LossSum& test);
  // Whether anything was counted since the last recorded point (so the run's end needs a last one).
  [[nodiscard]] bool changed_since_last_point() const;
  void show_progress(double virtual_seconds);
  void finish(StopReason reason, std::string message);

  // Checkpoints. The state both modes share (server, transport, workers, counters, evaluation
  // points); each mode adds its own after it. resume_payload() is the checkpoint to resume from,
  // read and checked against this run's settings (empty if the run starts afresh).
  void save_common(std::vector<std::uint8_t>& out) const;
  void load_common(wire::Reader& in);
  [[nodiscard]] bool checkpoint_due() const;  // at an evaluation point just recorded
  void write_checkpoint(std::span<const std::uint8_t> payload) const;
  [[nodiscard]] const std::vector<std::uint8_t>& resume_payload() const { return resume_payload_; }
  [[nodiscard]] std::uint64_t updates() const { return server.version(); }

 private:
  std::function<void(const EvalPoint&)> on_eval_;
  std::string settings_;
  std::uint64_t refused_in_a_row_ = 0;
  std::vector<std::uint8_t> resume_payload_;
  float base_learning_rate_;
  std::chrono::steady_clock::time_point started_;
  std::optional<ProgressBar> bar_;
};

// The two modes; each returns with ctx.report complete.
void run_virtual(RunContext& ctx);
void run_threads(RunContext& ctx);

}  // namespace rnn::async_detail
