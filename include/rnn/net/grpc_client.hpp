#pragma once
// A worker's connection to rnnl-ps. Every call carries the worker's credentials and a deadline.
// A call that fails for a reason that may pass (server down or restarting, deadline, connection
// reset) is retried with exponential backoff (0.1 s doubling to 5 s, ±25 % jitter) until
// `give_up_seconds` have passed; then, or at once for a refusal (bad credentials, revoked, message
// too large), it throws rnn::Error with gRPC's status. Pushes are safe to retry: the server keeps
// the last push id per worker and answers a copy `duplicate`.
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <grpcpp/security/credentials.h>

#include "rnn/net/serving_state.hpp"
#include "rnn/net/worker_config.hpp"

namespace rnn::net {

struct ClientOptions {
  std::string server = "127.0.0.1:50051";
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  std::string server_name;  // TLS name to check in the server's certificate, if not the host in `server`
  std::uint32_t worker = 0;
  std::string token;
  std::chrono::milliseconds deadline{30000};  // per call
  double give_up_seconds = 120.0;             // retrying a call
};

struct JoinAnswer {
  WorkerConfig config;
  std::uint64_t version = 0;
  std::uint64_t next_push_id = 1;
};

struct ClientCounters {
  std::uint64_t calls = 0;
  std::uint64_t retries = 0;      // attempts after a failure that may pass
  std::uint64_t push_bytes = 0;   // encoded bytes of first attempts
  std::uint64_t fetch_bytes = 0;  // parameter bytes received (dense or delta)
  double push_seconds = 0.0;      // wall time inside push calls, from the first attempt to the reply
};

class ServerClient {
 public:
  explicit ServerClient(const ClientOptions& options);
  ~ServerClient();
  ServerClient(const ServerClient&) = delete;
  ServerClient& operator=(const ServerClient&) = delete;
  ServerClient(ServerClient&&) = delete;
  ServerClient& operator=(ServerClient&&) = delete;

  JoinAnswer join();
  // Brings `parameters` (at `have_version`) to the server's version: replaced whole, or updated by
  // a delta, or left as they are when nothing changed.
  FetchAnswer fetch(std::uint64_t have_version, std::vector<float>& parameters);
  PushAnswer push(std::uint64_t push_id, std::span<const std::uint8_t> encoded);
  void leave();
  [[nodiscard]] const ClientCounters& counters() const { return counters_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  ClientCounters counters_;
};

}  // namespace rnn::net
