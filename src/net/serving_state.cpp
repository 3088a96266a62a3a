#include "rnn/net/serving_state.hpp"

#include <bit>
#include <cstring>

#include <fmt/format.h>

#include "rnn/compress/codec.hpp"
#include "rnn/core/byte_io.hpp"
#include "rnn/core/error.hpp"

namespace rnn::net {

static_assert(std::endian::native == std::endian::little, "snapshots are sent as the host's f32 bytes");

ServingState::ServingState(const ParameterLayout& layout, std::vector<float> initial, const ServerOptions& options,
                           std::uint64_t max_updates)
    : server_(layout, std::move(initial), options), max_updates_(max_updates) {}

WorkerStats& ServingState::stats(std::uint32_t worker) {
  WorkerStats& s = workers_[worker];
  s.last_seen_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  return s;
}

std::uint64_t ServingState::join(std::uint32_t worker) {
  std::lock_guard lock(mutex_);
  WorkerStats& s = stats(worker);
  ++s.joins;
  s.left = false;
  return s.last_push_id + 1;
}

FetchAnswer ServingState::fetch(std::uint32_t worker, std::uint64_t have_version) {
  std::lock_guard lock(mutex_);
  WorkerStats& s = stats(worker);
  ++s.fetches;
  FetchAnswer answer;
  answer.version = server_.version();
  answer.done = done();
  if (have_version == answer.version && have_version != 0) return answer;
  if (!cached_ || cached_version_ != answer.version) {
    const auto params = server_.parameters();
    auto bytes = std::make_shared<std::string>(params.size() * sizeof(float), '\0');
    // The wire is little-endian f32: this machine's own layout (checked below), so one copy.
    std::memcpy(bytes->data(), params.data(), bytes->size());
    cached_ = std::move(bytes);
    cached_version_ = answer.version;
  }
  answer.parameters = cached_;
  s.fetch_bytes += cached_->size();
  counters_.egress_bytes += cached_->size();
  return answer;
}

PushAnswer ServingState::push(std::uint32_t worker, std::uint64_t push_id, std::span<const std::uint8_t> bytes) {
  std::lock_guard lock(mutex_);
  WorkerStats& s = stats(worker);
  counters_.ingress_bytes += bytes.size();
  s.push_bytes += bytes.size();
  PushAnswer answer;
  if (push_id == 0) {
    // Not a push of the protocol: refused without taking an id.
    ++counters_.received;
    ++counters_.rejected;
    ++s.pushes;
    answer.reason = "push id 0 (ids start at 1)";
  } else if (push_id <= s.last_push_id) {
    ++counters_.duplicates;
    ++s.duplicates;
    answer.verdict = PushVerdict::duplicate;
    answer.reason = fmt::format("push {} already received (last {})", push_id, s.last_push_id);
  } else {
    s.last_push_id = push_id;
    ++counters_.received;
    ++s.pushes;
    std::uint32_t claimed = 0;
    bool header_ok = true;
    try {
      claimed = peek_worker(bytes);
    } catch (const Error& e) {
      header_ok = false;
      answer.reason = e.what();
    }
    if (!header_ok) {
      ++counters_.rejected;
    } else if (claimed != worker) {
      ++counters_.rejected;
      ++counters_.wrong_sender;
      answer.reason = fmt::format("the push names worker {}, its sender is worker {}", claimed, worker);
    } else if (done()) {
      ++counters_.after_end;
      answer.reason = "the run is over";
    } else {
      const PushReceipt receipt = server_.receive(bytes);
      answer.delay = receipt.delay;
      if (receipt.applied()) {
        answer.verdict = PushVerdict::applied;
        ++counters_.applied;
        ++s.applied;
        version_changed_.notify_all();
      } else {
        ++counters_.rejected;
        answer.reason = std::string(receipt.reason());
      }
    }
  }
  answer.version = server_.version();
  answer.done = done();
  return answer;
}

void ServingState::leave(std::uint32_t worker) {
  std::lock_guard lock(mutex_);
  stats(worker).left = true;
}

void ServingState::note_refused(Refusal why) {
  std::lock_guard lock(mutex_);
  ++(why == Refusal::revoked ? counters_.revoked : counters_.unauthenticated);
}

std::uint64_t ServingState::version() const {
  std::lock_guard lock(mutex_);
  return server_.version();
}

bool ServingState::done() const {
  return finished_ || server_.version() >= max_updates_;
}

void ServingState::finish() {
  std::lock_guard lock(mutex_);
  finished_ = true;
  version_changed_.notify_all();
}

std::uint64_t ServingState::wait_for_version(std::uint64_t version, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  version_changed_.wait_for(lock, timeout, [&] { return server_.version() >= version || done(); });
  return server_.version();
}

std::pair<std::uint64_t, std::vector<float>> ServingState::observe() const {
  std::lock_guard lock(mutex_);
  const auto params = server_.parameters();
  return {server_.version(), std::vector<float>(params.begin(), params.end())};
}

ServingCounters ServingState::counters() const {
  std::lock_guard lock(mutex_);
  return counters_;
}

std::map<std::uint32_t, WorkerStats> ServingState::worker_stats() const {
  std::lock_guard lock(mutex_);
  return workers_;
}

ServerCounters ServingState::server_counters() const {
  std::lock_guard lock(mutex_);
  return server_.counters();
}

void ServingState::save_state(std::vector<std::uint8_t>& out) const {
  std::lock_guard lock(mutex_);
  server_.save_state(out);
  const ServingCounters& c = counters_;
  for (const std::uint64_t n : {c.received, c.applied, c.rejected, c.wrong_sender, c.after_end, c.duplicates,
                                c.ingress_bytes, c.egress_bytes, c.unauthenticated, c.revoked})
    wire::put_u64(out, n);
  wire::put_u64(out, workers_.size());
  for (const auto& [id, s] : workers_) {
    wire::put_u32(out, id);
    for (const std::uint64_t n :
         {s.joins, s.fetches, s.pushes, s.applied, s.duplicates, s.push_bytes, s.fetch_bytes, s.last_push_id})
      wire::put_u64(out, n);
  }
}

void ServingState::load_state(wire::Reader& in) {
  std::lock_guard lock(mutex_);
  server_.load_state(in);
  ServingCounters c;
  for (std::uint64_t* n : {&c.received, &c.applied, &c.rejected, &c.wrong_sender, &c.after_end, &c.duplicates,
                           &c.ingress_bytes, &c.egress_bytes, &c.unauthenticated, &c.revoked})
    *n = in.u64("serving counters");
  const std::uint64_t count = in.u64("worker count");
  if (count > in.remaining() / 68) throw Error("checkpoint: more workers than the file holds");
  std::map<std::uint32_t, WorkerStats> workers;
  for (std::uint64_t i = 0; i < count; ++i) {
    const std::uint32_t id = in.u32("worker id");
    WorkerStats s;
    for (std::uint64_t* n :
         {&s.joins, &s.fetches, &s.pushes, &s.applied, &s.duplicates, &s.push_bytes, &s.fetch_bytes, &s.last_push_id})
      *n = in.u64("worker statistics");
    workers[id] = s;
  }
  counters_ = c;
  workers_ = std::move(workers);
  cached_.reset();
}

}  // namespace rnn::net
