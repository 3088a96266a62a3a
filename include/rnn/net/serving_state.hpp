#pragma once
// The networked parameter server's state, apart from any RPC stack: the ParameterServer behind a
// mutex, plus what a server facing a real network needs on top of the emulator's:
//
//   idempotent pushes  each push carries (worker, push id), ids 1, 2, 3 … per worker; an id the
//                      server has already received is answered `duplicate` and changes nothing,
//                      so a worker may retry a push whose reply it never saw. The last id per
//                      worker is in the checkpoint, so this holds across a server restart.
//   sender check       the worker id inside the encoded push must be the authenticated caller's.
//   end of run         once the version reaches max_updates no push is applied; replies say done.
//   delta fetches      a worker that holds version v gets only the entries changed since v when
//                      that is smaller (each parameter remembers the version that last changed it).
//   accounting         every received push is counted once, under exactly one outcome:
//                      received = applied + rejected (by cause) + after_end; retried copies are
//                      counted as duplicates, not as pushes. Per worker: pushes, bytes, joins.
//
// Thread-safe: RPC handlers call it concurrently.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "rnn/compress/message.hpp"
#include "rnn/server/parameter_server.hpp"

namespace rnn::net {

enum class PushVerdict : std::uint8_t { applied, rejected, duplicate };

struct PushAnswer {
  PushVerdict verdict = PushVerdict::rejected;
  std::uint64_t version = 0;
  std::uint64_t delay = 0;
  std::string reason;
  bool done = false;
};

// A fetch's answer: nothing (the worker is up to date), the dense parameters, or a delta: the
// entries that changed since the worker's version, as u32 flat indices and f32 values, sent when
// that is smaller than the dense vector (8 bytes per changed entry against 4 per parameter).
struct FetchAnswer {
  std::uint64_t version = 0;
  std::shared_ptr<const std::string> parameters;  // little-endian f32; null when unchanged or a delta
  std::string delta_indices;                      // little-endian u32, increasing
  std::string delta_values;                       // little-endian f32, one per index
  std::uint64_t delta_base = 0;                   // the version the delta applies to (0: no delta)
  bool done = false;
  [[nodiscard]] std::size_t bytes() const {
    return (parameters ? parameters->size() : 0) + delta_indices.size() + delta_values.size();
  }
};

// Applies a delta answer to parameters at answer.delta_base. Throws rnn::Error on indices out of
// range or not increasing, or sizes that do not match.
void apply_delta(const FetchAnswer& answer, std::span<float> parameters);

struct WorkerStats {
  std::uint64_t joins = 0;
  std::uint64_t fetches = 0;
  std::uint64_t pushes = 0;  // distinct push ids received
  std::uint64_t applied = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t push_bytes = 0;
  std::uint64_t fetch_bytes = 0;
  std::uint64_t last_push_id = 0;
  std::uint64_t heartbeats = 0;
  double last_seen_seconds = 0.0;  // since the server started: its last call, push or heartbeat
  bool left = false;
};

struct ServingCounters {
  std::uint64_t received = 0;  // distinct pushes: applied + rejected + after_end
  std::uint64_t applied = 0;
  std::uint64_t rejected = 0;       // refused by the server step (malformed, non-finite, …) or the sender check
  std::uint64_t wrong_sender = 0;   // … of which: the push names another worker than its sender
  std::uint64_t after_end = 0;      // arrived after max_updates; not applied
  std::uint64_t duplicates = 0;     // retried copies of pushes already received
  std::uint64_t ingress_bytes = 0;  // bytes of every authenticated push, copies included
  std::uint64_t egress_bytes = 0;   // parameter bytes sent by fetches
  // Calls refused before any work (counted by the RPC layer through note_refused).
  std::uint64_t unauthenticated = 0;  // no or wrong credentials, unknown worker
  std::uint64_t revoked = 0;          // a revoked worker's valid credentials
};

class ServingState {
 public:
  ServingState(const ParameterLayout& layout, std::vector<float> initial, const ServerOptions& options,
               std::uint64_t max_updates);

  // A worker (re)joins: its next push id.
  std::uint64_t join(std::uint32_t worker);
  FetchAnswer fetch(std::uint32_t worker, std::uint64_t have_version);
  PushAnswer push(std::uint32_t worker, std::uint64_t push_id, std::span<const std::uint8_t> bytes);
  void leave(std::uint32_t worker);
  // "Still here" between rounds: only refreshes the worker's last-seen time.
  void heartbeat(std::uint32_t worker);
  enum class Refusal : std::uint8_t { unauthenticated, revoked };
  void note_refused(Refusal why);

  [[nodiscard]] std::uint64_t version() const;
  [[nodiscard]] bool done() const;
  // Marks the run over (e.g. on SIGTERM): later pushes are not applied.
  void finish();
  // Blocks until the version reaches `version`, the run is over, or `timeout` passes; returns the
  // version then.
  std::uint64_t wait_for_version(std::uint64_t version, std::chrono::milliseconds timeout) const;
  // A consistent copy of the parameters and their version, for an evaluator; not counted as egress.
  std::pair<std::uint64_t, std::vector<float>> observe() const;
  [[nodiscard]] ServingCounters counters() const;
  [[nodiscard]] std::map<std::uint32_t, WorkerStats> worker_stats() const;
  [[nodiscard]] ServerCounters server_counters() const;
  [[nodiscard]] std::uint64_t max_updates() const { return max_updates_; }
  // Seconds since the state was made: the clock of WorkerStats::last_seen_seconds.
  [[nodiscard]] double elapsed_seconds() const;

  // Checkpoints: the server's state, each worker's last push id and the counters.
  void save_state(std::vector<std::uint8_t>& out) const;
  void load_state(wire::Reader& in);

 private:
  WorkerStats& stats(std::uint32_t worker);  // with mutex_ held
  mutable std::mutex mutex_;
  mutable std::condition_variable version_changed_;
  ParameterServer server_;
  std::uint64_t max_updates_;
  bool finished_ = false;
  ServingCounters counters_;
  std::map<std::uint32_t, WorkerStats> workers_;
  void note_changes(std::span<const std::uint8_t> bytes);  // with mutex_ held, after an applied push
  std::vector<std::uint64_t> changed_at_;                  // per parameter: the version that last changed it
  Message decoded_;                                        // note_changes' buffer
  std::shared_ptr<const std::string> cached_;              // the serialised parameters at cached_version_
  std::uint64_t cached_version_ = 0;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

}  // namespace rnn::net
