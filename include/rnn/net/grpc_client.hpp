#pragma once
// A worker's connection to rnnl-ps. Every call carries the worker's credentials and a deadline.
// Two ways to run rounds: unary calls (fetch, then push: two round trips per round), or round() on
// one bidirectional stream (the round's push and the next parameters in one round trip). While the
// stream is open, a background thread cancels a round whose reply takes longer than `deadline` (the
// stream is then reopened and the round resent under the same push id, like a retried call), and
// sends a heartbeat when nothing was sent for `heartbeat_seconds`. A push whose first reply was
// lost is answered `duplicate` when resent.
// A call that fails for a reason that may pass (server down or restarting, deadline, connection
// reset) is retried with exponential backoff (0.1 s doubling to 5 s, ±25 % jitter) until
// `give_up_seconds` have passed; then, or at once for a refusal (bad credentials, revoked, message
// too large), it throws rnn::Error with gRPC's status. Pushes are safe to retry: the server keeps
// the last push id per worker and answers a copy `duplicate`.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
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
  double heartbeat_seconds = 5.0;             // on the stream, between rounds (0: none)
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
  double push_seconds = 0.0;      // wall time inside push calls or rounds with a push, first attempt to reply
  std::uint64_t heartbeats = 0;
};

struct OutgoingPush {
  std::uint64_t id = 0;
  std::span<const std::uint8_t> encoded;
};

struct RoundAnswer {
  std::optional<PushAnswer> push;  // the outcome of the round's push, if it had one
  FetchAnswer fetch;               // the parameters' version after the round (not set when `last`)
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
  // One round trip on the stream: sends `push` (if any) and brings `parameters` (at `have_version`)
  // to the server's version, as fetch() does; `last`: the worker's final push, no parameters wanted.
  RoundAnswer round(const OutgoingPush* push, std::uint64_t have_version, std::vector<float>& parameters,
                    bool last = false);
  // Closes the stream (if open) and tells the server the worker is leaving for good.
  void leave();
  [[nodiscard]] ClientCounters counters() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  ClientCounters counters_;
};

}  // namespace rnn::net
