#include "rnn/net/grpc_client.hpp"

#include <bit>
#include <cstring>
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

  // Runs `call` (which fills a fresh context) until it succeeds, fails for good, or time is up.
  template <typename Call>
  void run(const char* what, ClientCounters& counters, Call&& call) {
    const auto start = std::chrono::steady_clock::now();
    auto backoff = std::chrono::milliseconds(100);
    for (;;) {
      grpc::ClientContext context;
      context.AddMetadata(worker_header, std::to_string(options.worker));
      context.AddMetadata(token_header, "Bearer " + options.token);
      context.set_deadline(std::chrono::system_clock::now() + options.deadline);
      ++counters.calls;
      const grpc::Status status = call(context);
      if (status.ok()) return;
      const auto code = status.error_code();
      const bool may_pass = code == grpc::StatusCode::UNAVAILABLE || code == grpc::StatusCode::DEADLINE_EXCEEDED ||
                            code == grpc::StatusCode::ABORTED || code == grpc::StatusCode::INTERNAL ||
                            code == grpc::StatusCode::UNKNOWN;
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
  }

  ClientOptions options;
  std::mt19937_64 jitter;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::ParameterServer::Stub> stub;
};

ServerClient::ServerClient(const ClientOptions& options) : impl_(std::make_unique<Impl>(options)) {}
ServerClient::~ServerClient() = default;

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
  counters_.fetch_bytes += bytes.size() + reply.delta_indices().size() + reply.delta_values().size();
  return answer;
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

void ServerClient::leave() {
  v1::LeaveRequest request;
  request.set_worker(impl_->options.worker);
  v1::LeaveReply reply;
  impl_->run("leave", counters_, [&](grpc::ClientContext& c) { return impl_->stub->Leave(&c, request, &reply); });
}

}  // namespace rnn::net
