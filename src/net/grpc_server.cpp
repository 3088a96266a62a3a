#include "rnn/net/grpc_server.hpp"

#include <charconv>

#include <fmt/format.h>
#include <grpcpp/grpcpp.h>

#include "config_proto.hpp"
#include "parameter_server.grpc.pb.h"
#include "rnn/core/error.hpp"

namespace rnn::net {

namespace {

std::string_view metadata(const grpc::ServerContext& context, const char* key) {
  const auto& all = context.client_metadata();
  const auto it = all.find(key);
  if (it == all.end()) return {};
  return {it->second.data(), it->second.size()};
}

class Service final : public v1::ParameterServer::Service {
 public:
  Service(ServingState& state, const TokenTable& tokens, WorkerConfig config)
      : state_(state), tokens_(tokens), config_(std::move(config)) {}

  grpc::Status Join(grpc::ServerContext* context, const v1::JoinRequest* request, v1::JoinReply* reply) override {
    if (auto refused = authenticate(*context, request->worker())) return *refused;
    to_proto(config_, *reply->mutable_config());
    reply->set_next_push_id(state_.join(request->worker()));
    reply->set_version(state_.version());
    return grpc::Status::OK;
  }

  grpc::Status Fetch(grpc::ServerContext* context, const v1::FetchRequest* request, v1::Snapshot* reply) override {
    if (auto refused = authenticate(*context, request->worker())) return *refused;
    fill(state_.fetch(request->worker(), request->have_version()), *reply);
    return grpc::Status::OK;
  }

  grpc::Status Push(grpc::ServerContext* context, const v1::PushRequest* request, v1::PushReply* reply) override {
    if (auto refused = authenticate(*context, request->worker())) return *refused;
    apply(*request, *reply);
    return grpc::Status::OK;
  }

  grpc::Status Rounds(grpc::ServerContext* context,
                      grpc::ServerReaderWriter<v1::RoundReply, v1::RoundRequest>* stream) override {
    // The caller's credentials before anything is read: a stream that never authenticates holds
    // no server thread.
    std::uint32_t caller = 0;
    const std::string_view id_text = metadata(*context, worker_header);
    std::from_chars(id_text.data(), id_text.data() + id_text.size(), caller);  // checked by authenticate
    if (auto refused = authenticate(*context, caller)) return *refused;
    v1::RoundRequest request;
    v1::RoundReply reply;
    while (stream->Read(&request)) {
      const std::uint32_t worker = request.worker();
      if (auto refused = authenticate(*context, worker)) return *refused;
      if (request.has_push() && request.push().worker() != worker) {
        state_.note_refused(ServingState::Refusal::unauthenticated);
        return {grpc::StatusCode::PERMISSION_DENIED, "a round's push must name the round's worker"};
      }
      if (request.heartbeat()) {
        state_.heartbeat(worker);
        continue;
      }
      reply.Clear();
      bool done = false;
      if (request.has_push()) {
        apply(request.push(), *reply.mutable_push());
        done = reply.push().done();
      }
      if (!request.last() && !done) fill(state_.fetch(worker, request.have_version()), *reply.mutable_snapshot());
      if (!stream->Write(reply)) break;  // the worker went away; its next stream starts afresh
    }
    return grpc::Status::OK;
  }

  grpc::Status Leave(grpc::ServerContext* context, const v1::LeaveRequest* request,
                     v1::LeaveReply* /*reply*/) override {
    if (auto refused = authenticate(*context, request->worker())) return *refused;
    state_.leave(request->worker());
    return grpc::Status::OK;
  }

 private:
  static void fill(const FetchAnswer& answer, v1::Snapshot& reply) {
    reply.set_version(answer.version);
    reply.set_done(answer.done);
    if (answer.parameters) reply.set_parameters(*answer.parameters);
    if (answer.delta_base != 0) {
      reply.set_delta_base(answer.delta_base);
      reply.set_delta_indices(answer.delta_indices);
      reply.set_delta_values(answer.delta_values);
    }
  }

  void apply(const v1::PushRequest& request, v1::PushReply& reply) {
    const std::string& encoded = request.encoded();
    const PushAnswer answer = state_.push(
        request.worker(), request.push_id(),
        std::span(reinterpret_cast<const std::uint8_t*>(encoded.data()), encoded.size()));  // NOLINT: bytes field
    reply.set_outcome(answer.verdict == PushVerdict::applied     ? v1::PushReply::APPLIED
                      : answer.verdict == PushVerdict::duplicate ? v1::PushReply::DUPLICATE
                                                                 : v1::PushReply::REJECTED);
    reply.set_version(answer.version);
    reply.set_delay(answer.delay);
    reply.set_reason(answer.reason);
    reply.set_done(answer.done);
  }

  // The refusal, or nothing when the caller is the worker its request names, with its token.
  std::optional<grpc::Status> authenticate(const grpc::ServerContext& context, std::uint32_t worker) {
    const std::string_view id_text = metadata(context, worker_header);
    const std::string_view bearer = metadata(context, token_header);
    std::uint32_t id = 0;
    const auto [end, ec] = std::from_chars(id_text.data(), id_text.data() + id_text.size(), id);
    constexpr std::string_view prefix = "Bearer ";
    if (id_text.empty() || ec != std::errc{} || end != id_text.data() + id_text.size() || !bearer.starts_with(prefix)) {
      state_.note_refused(ServingState::Refusal::unauthenticated);
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "missing worker id or bearer token");
    }
    const Access access = tokens_.check(id, bearer.substr(prefix.size()));
    if (access == Access::revoked) {
      state_.note_refused(ServingState::Refusal::revoked);
      return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, fmt::format("worker {} is revoked", id));
    }
    if (access != Access::granted) {
      state_.note_refused(ServingState::Refusal::unauthenticated);
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, std::string(to_string(access)));
    }
    if (worker != id) {
      state_.note_refused(ServingState::Refusal::unauthenticated);
      return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                          fmt::format("worker {} cannot speak for worker {}", id, worker));
    }
    return std::nullopt;
  }

  ServingState& state_;
  const TokenTable& tokens_;
  WorkerConfig config_;
};

}  // namespace

struct GrpcEndpoint::Impl {
  Impl(ServingState& state, const TokenTable& tokens, WorkerConfig config)
      : service(state, tokens, std::move(config)) {}
  Service service;
  std::unique_ptr<grpc::Server> server;
  int port = 0;
  bool stopped = false;
};

GrpcEndpoint::GrpcEndpoint(ServingState& state, const TokenTable& tokens, WorkerConfig config,
                           const EndpointOptions& options)
    : impl_(std::make_unique<Impl>(state, tokens, std::move(config))) {
  if (!options.credentials) throw Error("the endpoint needs credentials (TLS, or insecure for loopback tests)");
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.listen, options.credentials, &impl_->port);
  builder.RegisterService(&impl_->service);
  builder.SetMaxReceiveMessageSize(static_cast<int>(std::min<std::size_t>(options.max_message_bytes, INT32_MAX)));
  // Idle connections of workers that vanished are closed by keepalive probes.
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 30000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10000);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 5000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  impl_->server = builder.BuildAndStart();
  if (!impl_->server || impl_->port == 0) throw Error(fmt::format("cannot listen on {}", options.listen));
}

GrpcEndpoint::~GrpcEndpoint() {
  shutdown(0);
}

int GrpcEndpoint::port() const {
  return impl_->port;
}

void GrpcEndpoint::shutdown(int grace_ms) {
  if (impl_->stopped) return;
  impl_->stopped = true;
  impl_->server->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(grace_ms));
  impl_->server->Wait();
}

}  // namespace rnn::net
