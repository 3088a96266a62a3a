#include "rnn/net/grpc_client.hpp"

#include <atomic>
#include <bit>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <random>
#include <thread>

#include <fmt/format.h>
#include <grpcpp/grpcpp.h>

#include "config_proto.hpp"
#include "parameter_server.grpc.pb.h"
#include "rnn/core/error.hpp"
#include "rnn/net/grpc_server.hpp"

namespace rnn::net {

static_assert(std::endian::native == std::endian::little, "snapshots are read as the host's f32 bytes");

struct ServerClient::Impl {
  explicit Impl(const ClientOptions& o) : options(o), jitter(std::random_device{}()) {
    if (!o.credentials) throw Error("the client needs credentials (TLS, or insecure for loopback tests)");
    grpc::ChannelArguments args;
    if (!o.server_name.empty()) args.SetSslTargetNameOverride(o.server_name);
    args.SetMaxReceiveMessageSize(-1);  // snapshots of large models
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 5000);
    channel = grpc::CreateCustomChannel(o.server, o.credentials, args);
    stub = v1::ParameterServer::NewStub(channel);
  }

  void add_credentials(grpc::ClientContext& context) const {
    context.AddMetadata(worker_header, std::to_string(options.worker));
    context.AddMetadata(token_header, "Bearer " + options.token);
  }

  // After a failed attempt begun at `start`: sleeps the backoff and returns if the failure may pass
  // and time is left, else throws.
  void after_failure(const char* what, const grpc::Status& status, std::chrono::steady_clock::time_point start,
                     std::chrono::milliseconds& backoff, ClientCounters& counters) {
    const auto code = status.error_code();
    const bool may_pass = code == grpc::StatusCode::UNAVAILABLE || code == grpc::StatusCode::DEADLINE_EXCEEDED ||
                          code == grpc::StatusCode::ABORTED || code == grpc::StatusCode::INTERNAL ||
                          code == grpc::StatusCode::UNKNOWN || code == grpc::StatusCode::CANCELLED;
    const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!may_pass || waited >= options.give_up_seconds)
      throw Error(fmt::format("{} to {} failed{}: {} (gRPC code {})", what, options.server,
                              may_pass ? fmt::format(" for {:.0f} s", waited) : "", status.error_message(),
                              static_cast<int>(code)));
    ++counters.retries;
    std::uniform_real_distribution<double> spread(0.75, 1.25);
    std::this_thread::sleep_for(std::chrono::duration_cast<std::chrono::milliseconds>(backoff * spread(jitter)));
    backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
  }

  // Runs `call` (which fills a fresh context) until it succeeds, fails for good, or time is up.
  template <typename Call>
  void run(const char* what, ClientCounters& counters, Call&& call) {
    const auto start = std::chrono::steady_clock::now();
    auto backoff = std::chrono::milliseconds(100);
    for (;;) {
      grpc::ClientContext context;
      add_credentials(context);
      context.set_deadline(std::chrono::system_clock::now() + options.deadline);
      ++counters.calls;
      const grpc::Status status = call(context);
      if (status.ok()) return;
      after_failure(what, status, start, backoff, counters);
    }
  }

  // One request and its reply on the stream, reopening it after failures that may pass.
  void round_trip(const v1::RoundRequest& request, v1::RoundReply& reply, ClientCounters& counters) {
    const auto start = std::chrono::steady_clock::now();
    auto backoff = std::chrono::milliseconds(100);
    for (;;) {
      ++counters.calls;
      Stream* current = nullptr;
      {
        std::lock_guard lock(mutex);
        if (!stream) open_stream();
        current = stream.get();
        pending_since = std::chrono::steady_clock::now();  // from here the watchdog may cancel the round
        watchdog_fired = false;
      }
      bool sent = false;
      {
        std::lock_guard writing(write_mutex);
        sent = current->Write(request);
      }
      {
        std::lock_guard lock(mutex);
        last_write = std::chrono::steady_clock::now();
      }
      const bool answered = sent && current->Read(&reply);
      grpc::Status status;
      {
        std::lock_guard lock(mutex);
        pending_since.reset();
        if (answered) {
          // The watchdog fired just as the answer came: the stream is cancelled, open a new one next time.
          if (watchdog_fired.exchange(false)) close_stream(true);
          return;
        }
        status = close_stream(false);
      }
      if (status.ok()) status = grpc::Status(grpc::StatusCode::UNAVAILABLE, "the server closed the stream");
      if (watchdog_fired.exchange(false) && status.error_code() == grpc::StatusCode::CANCELLED)
        status = grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "no reply within the deadline");
      after_failure("round", status, start, backoff, counters);
    }
  }

  void open_stream() {  // with mutex held
    stream_context = std::make_unique<grpc::ClientContext>();
    add_credentials(*stream_context);
    // The metadata leaves with the first message, whose write the watchdog covers: opening the
    // stream itself does not wait for a connection.
    stream_context->set_initial_metadata_corked(true);
    stream = stub->Rounds(stream_context.get());
    last_write = std::chrono::steady_clock::now();
    if (!heart.joinable() && !stopping) heart = std::thread([this] { watch(); });
  }

  // With mutex held. After a failed read or write the call is over and Finish returns its status
  // (the server's refusal, say); `cancel` ends a call still open, so that Finish cannot block.
  grpc::Status close_stream(bool cancel) {
    if (!stream) return grpc::Status::OK;
    if (cancel) stream_context->TryCancel();
    std::lock_guard writing(write_mutex);  // a heartbeat being written finishes first
    grpc::Status status = stream->Finish();
    stream.reset();
    stream_context.reset();
    return status;
  }

  // The watchdog and heartbeat thread: cancels a round past its deadline; on an idle stream, sends
  // a heartbeat every heartbeat_seconds (if > 0).
  void watch() {
    using seconds = std::chrono::duration<double>;
    const seconds interval(options.heartbeat_seconds);
    seconds tick = std::min(seconds(0.1), seconds(options.deadline) / 4);
    if (interval.count() > 0) tick = std::min(tick, interval / 4);
    std::unique_lock lock(mutex);
    while (!stopping) {
      wake.wait_for(lock, tick);
      if (stopping || !stream) continue;
      const auto now = std::chrono::steady_clock::now();
      if (pending_since) {
        if (now - *pending_since > options.deadline && !watchdog_fired.exchange(true)) stream_context->TryCancel();
        continue;
      }
      if (interval.count() <= 0 || now - last_write < interval) continue;
      std::unique_lock writing(write_mutex, std::try_to_lock);
      if (!writing.owns_lock()) continue;  // a round is being written: the stream is not idle
      Stream* current = stream.get();      // stays alive: closing it waits for write_mutex
      last_write = now;
      lock.unlock();  // the round's thread and stop() must not wait on a heartbeat's write
      v1::RoundRequest request;
      request.set_worker(options.worker);
      request.set_heartbeat(true);
      // A failed write leaves the stream broken: the next round finds out and reopens it.
      if (current->Write(request)) ++heartbeats;
      writing.unlock();
      lock.lock();
    }
  }

  void stop() {
    {
      std::lock_guard lock(mutex);
      stopping = true;
      close_stream(true);  // no round is pending: nothing is lost
    }
    wake.notify_all();
    if (heart.joinable()) heart.join();
  }

  ClientOptions options;
  std::mt19937_64 jitter;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::ParameterServer::Stub> stub;

  using Stream = grpc::ClientReaderWriter<v1::RoundRequest, v1::RoundReply>;
  std::mutex mutex;        // the stream's replacement and the fields below
  std::mutex write_mutex;  // one write at a time on the stream (a read may run beside it)
  std::condition_variable wake;
  std::unique_ptr<grpc::ClientContext> stream_context;
  std::unique_ptr<Stream> stream;
  std::chrono::steady_clock::time_point last_write;
  std::optional<std::chrono::steady_clock::time_point> pending_since;  // a round awaiting its reply
  std::atomic<bool> watchdog_fired{false};
  std::atomic<std::uint64_t> heartbeats{0};
  bool stopping = false;
  std::thread heart;
};

namespace {

// Brings `parameters` at `have_version` to the snapshot's version; the answer as fetch() returns it.
FetchAnswer absorb(const v1::Snapshot& reply, std::uint64_t have_version, std::vector<float>& parameters,
                   ClientCounters& counters) {
  FetchAnswer answer;
  answer.version = reply.version();
  answer.done = reply.done();
  const std::string& bytes = reply.parameters();
  if (!bytes.empty()) {
    if (bytes.size() != parameters.size() * sizeof(float))
      throw Error(fmt::format("the server sent {} bytes of parameters, the model has {} parameters", bytes.size(),
                              parameters.size()));
    std::memcpy(parameters.data(), bytes.data(), bytes.size());
    answer.parameters = std::make_shared<const std::string>();  // marks "changed"
  } else if (reply.delta_base() != 0) {
    if (reply.delta_base() != have_version)
      throw Error(fmt::format("the server sent a delta from version {}, this worker holds {}", reply.delta_base(),
                              have_version));
    answer.delta_base = reply.delta_base();
    answer.delta_indices = reply.delta_indices();
    answer.delta_values = reply.delta_values();
    apply_delta(answer, parameters);
  }
  counters.fetch_bytes += bytes.size() + reply.delta_indices().size() + reply.delta_values().size();
  return answer;
}

PushAnswer from_reply(const v1::PushReply& reply) {
  PushAnswer answer;
  answer.verdict = reply.outcome() == v1::PushReply::APPLIED     ? PushVerdict::applied
                   : reply.outcome() == v1::PushReply::DUPLICATE ? PushVerdict::duplicate
                                                                 : PushVerdict::rejected;
  answer.version = reply.version();
  answer.delay = reply.delay();
  answer.reason = reply.reason();
  answer.done = reply.done();
  return answer;
}

}  // namespace

ServerClient::ServerClient(const ClientOptions& options) : impl_(std::make_unique<Impl>(options)) {}
ServerClient::~ServerClient() {
  impl_->stop();
}

ClientCounters ServerClient::counters() const {
  ClientCounters copy = counters_;
  copy.heartbeats = impl_->heartbeats.load();
  return copy;
}

JoinAnswer ServerClient::join() {
  v1::JoinRequest request;
  request.set_worker(impl_->options.worker);
  v1::JoinReply reply;
  impl_->run("join", counters_, [&](grpc::ClientContext& c) { return impl_->stub->Join(&c, request, &reply); });
  JoinAnswer answer;
  answer.config = from_proto(reply.config());
  answer.version = reply.version();
  answer.next_push_id = reply.next_push_id();
  return answer;
}

FetchAnswer ServerClient::fetch(std::uint64_t have_version, std::vector<float>& parameters) {
  v1::FetchRequest request;
  request.set_worker(impl_->options.worker);
  request.set_have_version(have_version);
  v1::Snapshot reply;
  impl_->run("fetch", counters_, [&](grpc::ClientContext& c) { return impl_->stub->Fetch(&c, request, &reply); });
  return absorb(reply, have_version, parameters, counters_);
}

PushAnswer ServerClient::push(std::uint64_t push_id, std::span<const std::uint8_t> encoded) {
  v1::PushRequest request;
  request.set_worker(impl_->options.worker);
  request.set_push_id(push_id);
  request.set_encoded(encoded.data(), encoded.size());
  counters_.push_bytes += encoded.size();
  v1::PushReply reply;
  const auto start = std::chrono::steady_clock::now();
  impl_->run("push", counters_, [&](grpc::ClientContext& c) { return impl_->stub->Push(&c, request, &reply); });
  counters_.push_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return from_reply(reply);
}

RoundAnswer ServerClient::round(const OutgoingPush* push, std::uint64_t have_version, std::vector<float>& parameters,
                                bool last) {
  v1::RoundRequest request;
  request.set_worker(impl_->options.worker);
  request.set_have_version(have_version);
  request.set_last(last);
  if (push != nullptr) {
    v1::PushRequest& p = *request.mutable_push();
    p.set_worker(impl_->options.worker);
    p.set_push_id(push->id);
    p.set_encoded(push->encoded.data(), push->encoded.size());
    counters_.push_bytes += push->encoded.size();
  }
  v1::RoundReply reply;
  const auto start = std::chrono::steady_clock::now();
  impl_->round_trip(request, reply, counters_);
  RoundAnswer answer;
  if (push != nullptr) {
    counters_.push_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!reply.has_push()) throw Error("the server answered a round without the outcome of its push");
    answer.push = from_reply(reply.push());
  }
  if (reply.has_snapshot()) {
    answer.fetch = absorb(reply.snapshot(), have_version, parameters, counters_);
  } else {
    answer.fetch.version = have_version;
    answer.fetch.done = answer.push && answer.push->done;
  }
  return answer;
}

void ServerClient::leave() {
  impl_->stop();
  v1::LeaveRequest request;
  request.set_worker(impl_->options.worker);
  v1::LeaveReply reply;
  impl_->run("leave", counters_, [&](grpc::ClientContext& c) { return impl_->stub->Leave(&c, request, &reply); });
}

}  // namespace rnn::net
