#include "rnn/net/serving_state.hpp"

#include <algorithm>
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
    : server_(layout, std::move(initial), options), max_updates_(max_updates), changed_at_(layout.size(), 0) {}

void ServingState::note_changes(std::span<const std::uint8_t> bytes) {
  // The server step changes exactly the entries a push carries (update rules are lazy, clamping
  // touches only stepped entries), so the push itself says what changed.
  const std::uint64_t version = server_.version();
  (void)decode(bytes, server_.layout(), decoded_);
  const auto& segments = server_.layout().segments();
  for (const TensorBlock& block : decoded_.blocks) {
    const Segment& segment = segments[block.segment];
    if (block.dense) {
      std::fill_n(changed_at_.begin() + static_cast<std::ptrdiff_t>(segment.offset), segment.size(), version);
    } else {
      for (const std::uint32_t i : block.indices) changed_at_[segment.offset + i] = version;
    }
  }
}

void apply_delta(const FetchAnswer& answer, std::span<float> parameters) {
  const std::size_t count = answer.delta_indices.size() / 4;
  if (answer.delta_indices.size() % 4 != 0 || answer.delta_values.size() != 4 * count)
    throw Error(fmt::format("a delta of {} index bytes and {} value bytes", answer.delta_indices.size(),
                            answer.delta_values.size()));
  std::uint32_t previous = 0;
  for (std::size_t k = 0; k < count; ++k) {
    std::uint32_t index = 0;
    float value = 0.0F;
    std::memcpy(&index, answer.delta_indices.data() + 4 * k, 4);
    std::memcpy(&value, answer.delta_values.data() + 4 * k, 4);
    if (index >= parameters.size() || (k > 0 && index <= previous))
      throw Error(
          fmt::format("delta index {} out of order or beyond the model's {} parameters", index, parameters.size()));
    parameters[index] = value;
    previous = index;
  }
}

WorkerStats& ServingState::stats(std::uint32_t worker) {
  WorkerStats& s = workers_[worker];
  s.last_seen_seconds = elapsed_seconds();
  return s;
}

double ServingState::elapsed_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
}

void ServingState::heartbeat(std::uint32_t worker) {
  std::lock_guard lock(mutex_);
  ++stats(worker).heartbeats;
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
  if (have_version != 0 && have_version < answer.version) {
    const auto params = server_.parameters();
    std::size_t changed = 0;
    for (const std::uint64_t v : changed_at_) changed += v > have_version ? 1 : 0;
    if (8 * changed < 4 * params.size()) {
      answer.delta_base = have_version;
      answer.delta_indices.resize(4 * changed);
      answer.delta_values.resize(4 * changed);
      std::size_t k = 0;
      for (std::size_t i = 0; i < params.size(); ++i) {
        if (changed_at_[i] <= have_version) continue;
        const auto index = static_cast<std::uint32_t>(i);
        std::memcpy(answer.delta_indices.data() + 4 * k, &index, 4);
        std::memcpy(answer.delta_values.data() + 4 * k, &params[i], 4);
        ++k;
      }
      s.fetch_bytes += answer.bytes();
      counters_.egress_bytes += answer.bytes();
      return answer;
    }
  }
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
        note_changes(bytes);
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
  // What changed before the checkpoint is not known: a worker older than it gets the dense vector.
  std::fill(changed_at_.begin(), changed_at_.end(), server_.version());
}

}  // namespace rnn::net
