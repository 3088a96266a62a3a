#pragma once
// The parameter server's gRPC endpoint (service rnn.net.v1.ParameterServer, parameter_server.proto)
// in front of a ServingState. Every call is checked before any work: its metadata must name a
// worker of the token table with that worker's token (else UNAUTHENTICATED), not revoked (else
// PERMISSION_DENIED), and the worker field of the request must be that worker (else
// PERMISSION_DENIED); each refusal is counted in the state. Messages above max_message_bytes are
// refused by gRPC before they are read whole. Nothing a client sends can stop the server: a push's
// bytes go to the ServingState, which rejects what does not decode.
#include <cstdint>
#include <memory>
#include <string>

#include <grpcpp/security/server_credentials.h>

#include "rnn/net/serving_state.hpp"
#include "rnn/net/tokens.hpp"
#include "rnn/net/worker_config.hpp"

namespace rnn::net {

struct EndpointOptions {
  std::string listen = "127.0.0.1:50051";  // host:port; port 0 picks a free one (see port())
  std::shared_ptr<grpc::ServerCredentials> credentials;
  std::size_t max_message_bytes = 64U << 20U;
};

// Metadata keys of the credentials.
inline constexpr const char* worker_header = "rnnl-worker";
inline constexpr const char* token_header = "authorization";  // "Bearer <token>"

class GrpcEndpoint {
 public:
  // Starts serving; throws rnn::Error if the address cannot be bound.
  GrpcEndpoint(ServingState& state, const TokenTable& tokens, WorkerConfig config, const EndpointOptions& options);
  ~GrpcEndpoint();
  GrpcEndpoint(const GrpcEndpoint&) = delete;
  GrpcEndpoint& operator=(const GrpcEndpoint&) = delete;
  GrpcEndpoint(GrpcEndpoint&&) = delete;
  GrpcEndpoint& operator=(GrpcEndpoint&&) = delete;

  [[nodiscard]] int port() const;
  // Stops accepting calls and waits for the ones in progress (at most `grace_ms`).
  void shutdown(int grace_ms = 2000);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rnn::net
