#include "rnn/async/transport.hpp"

#include <algorithm>

namespace rnn {

std::size_t snapshot_bytes(std::size_t parameters) {
  return 16 + 4 * parameters;  // u64 version, u64 count, f32 values
}

// Released snapshots' storage, for reuse. The deleter of every published snapshot hands its
// storage back here under the lock, whichever thread drops the last reference, so a reused buffer
// is never written while a reader still holds it.
struct InProcessTransport::Buffers {
  std::mutex mutex;
  std::vector<std::unique_ptr<ModelSnapshot>> free;
  std::size_t live = 0;
};

InProcessTransport::InProcessTransport(ParameterServer& server)
    : server_(server), buffers_(std::make_shared<Buffers>()) {}

InProcessTransport::~InProcessTransport() = default;

SnapshotPtr InProcessTransport::fetch(std::uint32_t /*worker*/) {
  std::lock_guard lock(mutex_);
  egress_bytes_ += snapshot_bytes(server_.parameters().size());
  return publish();
}

SnapshotPtr InProcessTransport::observe() {
  std::lock_guard lock(mutex_);
  return publish();
}

SnapshotPtr InProcessTransport::publish() {
  if (latest_ && latest_->version == server_.version()) return latest_;
  std::unique_ptr<ModelSnapshot> storage;
  {
    std::lock_guard buffers_lock(buffers_->mutex);
    if (!buffers_->free.empty()) {
      storage = std::move(buffers_->free.back());
      buffers_->free.pop_back();
    }
    ++buffers_->live;
  }
  if (!storage) storage = std::make_unique<ModelSnapshot>();
  const auto params = server_.parameters();
  storage->version = server_.version();
  storage->parameters.assign(params.begin(), params.end());
  latest_ = SnapshotPtr(storage.release(), [buffers = buffers_](const ModelSnapshot* s) {
    std::lock_guard buffers_lock(buffers->mutex);
    buffers->free.emplace_back(const_cast<ModelSnapshot*>(s));
    --buffers->live;
  });
  return latest_;
}

PushReceipt InProcessTransport::push(std::uint32_t /*worker*/, std::span<const std::uint8_t> bytes) {
  std::lock_guard lock(mutex_);
  return server_.receive(bytes);
}

std::uint64_t InProcessTransport::egress_bytes() const {
  std::lock_guard lock(mutex_);
  return egress_bytes_;
}

void InProcessTransport::restore_egress_bytes(std::uint64_t bytes) {
  std::lock_guard lock(mutex_);
  egress_bytes_ = bytes;
}

std::size_t InProcessTransport::live_snapshots() const {
  std::lock_guard buffers_lock(buffers_->mutex);
  return buffers_->live;
}

}  // namespace rnn
