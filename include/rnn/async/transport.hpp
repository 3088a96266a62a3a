#pragma once
// What moves between workers and the parameter server: encoded pushes one way, model snapshots
// (parameters with their version) the other. Workers and the emulator see only this interface, so
// the in-process implementation here and a networked one are interchangeable, and neither side
// knows which one it is behind.
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "rnn/server/parameter_server.hpp"

namespace rnn {

// The parameters at one server version, immutable once published. Shared by every worker that
// fetched that version, and released when the last of them lets go.
struct ModelSnapshot {
  std::uint64_t version = 0;
  std::vector<float> parameters;
};
using SnapshotPtr = std::shared_ptr<const ModelSnapshot>;

// Bytes of the model message a fetch sends: a dense f32 vector with its version and length.
[[nodiscard]] std::size_t snapshot_bytes(std::size_t parameters);

class Transport {
 public:
  virtual ~Transport() = default;
  virtual SnapshotPtr fetch(std::uint32_t worker) = 0;
  virtual PushReceipt push(std::uint32_t worker, std::span<const std::uint8_t> bytes) = 0;
  [[nodiscard]] virtual std::uint64_t egress_bytes() const = 0;  // snapshot bytes sent so far
};

// Calls the server in the caller's thread, one call at a time (a mutex). A fetch publishes a copy
// of the parameters only when the server has moved since the last one; buffers of released
// snapshots are reused, so a run in steady state does not allocate for fetches.
class InProcessTransport final : public Transport {
 public:
  explicit InProcessTransport(ParameterServer& server);
  ~InProcessTransport() override;
  InProcessTransport(const InProcessTransport&) = delete;
  InProcessTransport& operator=(const InProcessTransport&) = delete;
  InProcessTransport(InProcessTransport&&) = delete;
  InProcessTransport& operator=(InProcessTransport&&) = delete;

  SnapshotPtr fetch(std::uint32_t worker) override;
  PushReceipt push(std::uint32_t worker, std::span<const std::uint8_t> bytes) override;
  [[nodiscard]] std::uint64_t egress_bytes() const override;

  // The server's current state for an observer on this side (an evaluator): not counted as egress.
  [[nodiscard]] SnapshotPtr observe();
  // For a resumed run: the egress bytes counted before the checkpoint.
  void restore_egress_bytes(std::uint64_t bytes);
  // Snapshots alive right now (held by a worker or by this transport as the latest).
  [[nodiscard]] std::size_t live_snapshots() const;

 private:
  struct Buffers;
  SnapshotPtr publish();  // with mutex_ held
  ParameterServer& server_;
  mutable std::mutex mutex_;
  std::shared_ptr<Buffers> buffers_;
  SnapshotPtr latest_;
  std::uint64_t egress_bytes_ = 0;
};

}  // namespace rnn
