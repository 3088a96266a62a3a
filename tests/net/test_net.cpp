// The networked server: token files, the serving state's idempotence and accounting, and the gRPC
// endpoint against callers that are not who they claim, send too much, or send garbage.
#include <doctest/doctest.h>
#include <grpcpp/grpcpp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <random>
#include <thread>
#include <vector>

#include "parameter_server.grpc.pb.h"
#include "rnn/compress/codec.hpp"
#include "rnn/core/error.hpp"
#include "rnn/net/credentials.hpp"
#include "rnn/net/grpc_client.hpp"
#include "rnn/net/grpc_server.hpp"
#include "rnn/net/serving_state.hpp"
#include "rnn/net/tokens.hpp"
#include "support/temp_dir.hpp"

namespace rnn::net {
namespace {

ParameterLayout small_layout() {
  ParameterLayout layout;
  layout.add("dense1.w", 2, 3, false);
  layout.add("rnl1.w_plus", 1, 4, true);
  return layout;
}

std::vector<std::uint8_t> push_bytes(const ParameterLayout& layout, std::uint32_t worker, std::uint64_t base,
                                     float value = 0.5F) {
  Message m;
  m.worker = worker;
  m.base_version = base;
  m.blocks.resize(1);
  m.blocks[0].segment = 0;
  m.blocks[0].indices = {1, 4};
  m.blocks[0].values = {value, -value};
  std::vector<std::uint8_t> bytes;
  encode(m, layout, CodecOptions{}, bytes);
  return bytes;
}

ServerOptions plain_sgd() {
  ServerOptions o;
  o.policy = StepPolicy::plain;
  o.learning_rate = 0.1F;
  return o;
}

}  // namespace

TEST_CASE("token files: entries, revocation, constant answers, and errors that name the line") {
  const auto entries = TokenTable::parse("# workers\n0 aaaaaaaaaaaaaaaa\n7 bbbbbbbbbbbbbbbbbbbb revoked # gone\n", "t");
  REQUIRE(entries.size() == 2);
  CHECK(entries.at(7).second);
  test::TempDir dir;
  const auto path = dir / "tokens.txt";
  std::ofstream(path) << "0 aaaaaaaaaaaaaaaa\n7 bbbbbbbbbbbbbbbbbbbb revoked\n";
  TokenTable table(path);
  CHECK(table.check(0, "aaaaaaaaaaaaaaaa") == Access::granted);
  CHECK(table.check(0, "aaaaaaaaaaaaaaab") == Access::wrong_token);
  CHECK(table.check(0, "") == Access::wrong_token);
  CHECK(table.check(7, "bbbbbbbbbbbbbbbbbbbb") == Access::revoked);
  CHECK(table.check(7, "aaaaaaaaaaaaaaaa") == Access::wrong_token);
  CHECK(table.check(3, "aaaaaaaaaaaaaaaa") == Access::unknown_worker);
  // Reloading picks up a revocation; a broken file keeps the old table.
  std::ofstream(path) << "0 aaaaaaaaaaaaaaaa revoked\n";
  table.reload();
  CHECK(table.check(0, "aaaaaaaaaaaaaaaa") == Access::revoked);
  std::ofstream(path) << "zero aaaaaaaaaaaaaaaa\n";
  CHECK_THROWS_WITH_AS(table.reload(), doctest::Contains("tokens.txt:1"), Error);
  CHECK(table.check(0, "aaaaaaaaaaaaaaaa") == Access::revoked);

  for (const char* bad : {"1\n", "1 short\n", "1 aaaaaaaaaaaaaaaa maybe\n", "1 aaaaaaaaaaaaaaaa\n1 bbbbbbbbbbbbbbbb\n",
                          "-1 aaaaaaaaaaaaaaaa\n", "99999999999 aaaaaaaaaaaaaaaa\n", "# nothing\n"})
    CHECK_THROWS_AS((void)TokenTable::parse(bad, "t"), Error);
  CHECK(random_token().size() == 32);
  CHECK(random_token() != random_token());
}

TEST_CASE("serving state: a push is applied once, whatever the retries, and every push is counted once") {
  const ParameterLayout layout = small_layout();
  ServingState state(layout, std::vector<float>(layout.size(), 1.0F), plain_sgd(), 3);
  CHECK(state.join(4) == 1);
  const auto p1 = push_bytes(layout, 4, 0);
  CHECK(state.push(4, 1, p1).verdict == PushVerdict::applied);
  CHECK(state.push(4, 1, p1).verdict == PushVerdict::duplicate);  // a retry whose reply was lost
  CHECK(state.version() == 1);
  CHECK(state.join(4) == 2);  // a restarted worker continues after the last id received

  // Another worker's id inside the push: refused, counted, nothing applied.
  const PushAnswer forged = state.push(5, 1, push_bytes(layout, 4, 1));
  CHECK(forged.verdict == PushVerdict::rejected);
  CHECK(forged.reason.find("names worker 4") != std::string::npos);
  // Garbage: refused without throwing.
  const std::vector<std::uint8_t> garbage{9, 9, 9};
  CHECK(state.push(5, 2, garbage).verdict == PushVerdict::rejected);
  CHECK(state.push(5, 0, push_bytes(layout, 5, 1)).verdict == PushVerdict::rejected);  // id 0 is not a push id

  CHECK(state.push(4, 2, push_bytes(layout, 4, 1)).verdict == PushVerdict::applied);
  CHECK(state.push(5, 3, push_bytes(layout, 5, 2)).verdict == PushVerdict::applied);
  CHECK(state.done());
  const PushAnswer late = state.push(4, 3, push_bytes(layout, 4, 3));
  CHECK(late.verdict == PushVerdict::rejected);
  CHECK(late.done);

  const ServingCounters c = state.counters();
  CHECK(c.applied == 3);
  CHECK(c.rejected == 3);
  CHECK(c.wrong_sender == 1);
  CHECK(c.after_end == 1);
  CHECK(c.duplicates == 1);
  CHECK(c.received == c.applied + c.rejected + c.after_end);
  const auto workers = state.worker_stats();
  CHECK(workers.at(4).pushes == 3);
  CHECK(workers.at(4).applied == 2);
  CHECK(workers.at(5).pushes == 4);
}

TEST_CASE("serving state: the last push ids survive a checkpoint, so a restarted server applies no copy") {
  const ParameterLayout layout = small_layout();
  ServingState before(layout, std::vector<float>(layout.size(), 1.0F), plain_sgd(), 100);
  const auto p1 = push_bytes(layout, 2, 0);
  REQUIRE(before.push(2, 1, p1).verdict == PushVerdict::applied);
  std::vector<std::uint8_t> saved;
  before.save_state(saved);

  ServingState after(layout, std::vector<float>(layout.size(), 0.0F), plain_sgd(), 100);
  wire::Reader in(saved, "checkpoint");
  after.load_state(in);
  CHECK(in.remaining() == 0);
  CHECK(after.version() == 1);
  CHECK(after.observe().second == before.observe().second);
  CHECK(after.push(2, 1, p1).verdict == PushVerdict::duplicate);
  CHECK(after.version() == 1);
  CHECK(after.join(2) == 2);
  CHECK(after.counters().applied == 1);

  // A truncated checkpoint is refused.
  saved.resize(saved.size() - 3);
  wire::Reader cut(saved, "checkpoint");
  ServingState other(layout, std::vector<float>(layout.size(), 0.0F), plain_sgd(), 100);
  CHECK_THROWS_AS(other.load_state(cut), Error);
}

TEST_CASE("serving state: a fetch sends only what changed since the worker's version, when that is smaller") {
  ParameterLayout layout;
  layout.add("dense1.w", 10, 10, false);
  layout.add("rnl1.w_plus", 5, 4, true);
  for (const ServerRule rule : {ServerRule::sgd, ServerRule::momentum}) {
    ServerOptions options = plain_sgd();
    options.rule = rule;
    ServingState state(layout, std::vector<float>(layout.size(), 1.0F), options, 100);
    std::vector<float> worker(layout.size(), 0.0F);
    FetchAnswer first = state.fetch(0, 0);
    REQUIRE(first.parameters != nullptr);
    std::memcpy(worker.data(), first.parameters->data(), first.parameters->size());
    std::uint64_t id = 1;
    for (std::uint64_t round = 0; round < 3; ++round) {
      // A sparse push to segment 0 and one that moves a non-negative segment (clamped entries).
      Message m;
      m.worker = 0;
      m.base_version = state.version();
      m.blocks.resize(2);
      m.blocks[0].segment = 0;
      m.blocks[0].indices = {static_cast<std::uint32_t>(round), 50, 99};
      m.blocks[0].values = {0.5F, -2.0F, 1.0F};
      m.blocks[1].segment = 1;
      m.blocks[1].indices = {static_cast<std::uint32_t>(3 + round)};
      m.blocks[1].values = {30.0F};
      std::vector<std::uint8_t> bytes;
      encode(m, layout, CodecOptions{}, bytes);
      REQUIRE(state.push(0, id++, bytes).verdict == PushVerdict::applied);
    }
    const FetchAnswer delta = state.fetch(0, 1);  // the worker holds version 1
    REQUIRE(delta.delta_base == 1);
    CHECK(delta.parameters == nullptr);
    CHECK(delta.delta_indices.size() == 4 * 6);  // rounds 2 and 3: 3 + 1 entries each, 50 and 99 shared
    const auto [version, now] = state.observe();
    CHECK(version == 3);
    std::vector<float> at_one = now;
    // Version 1 differs from now only at the delta's entries: overwrite them with garbage, then apply.
    for (std::size_t k = 0; k < delta.delta_indices.size() / 4; ++k) {
      std::uint32_t index = 0;
      std::memcpy(&index, delta.delta_indices.data() + 4 * k, 4);
      at_one[index] = -99.0F;
    }
    apply_delta(delta, at_one);
    CHECK(at_one == now);
    // Everything changed since version 0 for a worker that holds nothing: dense.
    CHECK(state.fetch(0, 0).parameters != nullptr);
  }
  // Malformed deltas are refused.
  FetchAnswer bad;
  bad.delta_indices = std::string(4, '\xFF');
  bad.delta_values = std::string(4, '\0');
  std::vector<float> params(4, 0.0F);
  CHECK_THROWS_AS(apply_delta(bad, params), Error);
  bad.delta_values.resize(3);
  CHECK_THROWS_AS(apply_delta(bad, params), Error);
}

namespace {

// A server on a free loopback port (plain TCP: what is checked here is independent of TLS).
struct LiveServer {
  explicit LiveServer(std::size_t max_message = 1U << 20U)
      : layout(small_layout()),
        state(layout, std::vector<float>(layout.size(), 1.0F), plain_sgd(), 1000),
        tokens_file(dir / "tokens.txt") {
    std::ofstream(tokens_file) << "0 token-of-worker-0000\n1 token-of-worker-1111\n2 token-of-worker-2222 revoked\n";
    tokens.emplace(tokens_file);
    WorkerConfig config;
    config.model = "mlp";
    config.parameters = layout.size();
    config.workers = 3;
    EndpointOptions options;
    options.listen = "127.0.0.1:0";
    options.credentials = server_credentials({}, true);
    options.max_message_bytes = max_message;
    endpoint.emplace(state, *tokens, config, options);
    address = "127.0.0.1:" + std::to_string(endpoint->port());
    stub = v1::ParameterServer::NewStub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  }

  grpc::StatusCode push(const char* worker_id, const char* token, std::uint32_t worker, std::uint64_t id,
                        const std::string& bytes, v1::PushReply* reply = nullptr) {
    grpc::ClientContext context;
    if (worker_id != nullptr) context.AddMetadata(worker_header, worker_id);
    if (token != nullptr) context.AddMetadata(token_header, std::string("Bearer ") + token);
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    v1::PushRequest request;
    request.set_worker(worker);
    request.set_push_id(id);
    request.set_encoded(bytes);
    v1::PushReply ignored;
    return stub->Push(&context, request, reply != nullptr ? reply : &ignored).error_code();
  }

  [[nodiscard]] std::string valid_push(std::uint32_t worker) const {
    const auto bytes = push_bytes(layout, worker, state.version());
    return {bytes.begin(), bytes.end()};
  }

  test::TempDir dir;
  ParameterLayout layout;
  ServingState state;
  std::filesystem::path tokens_file;
  std::optional<TokenTable> tokens;
  std::optional<GrpcEndpoint> endpoint;
  std::string address;
  std::unique_ptr<v1::ParameterServer::Stub> stub;
};

}  // namespace

TEST_CASE("endpoint: callers without valid credentials are refused and counted, and the server keeps serving") {
  LiveServer server;
  CHECK(server.push(nullptr, nullptr, 0, 1, server.valid_push(0)) == grpc::StatusCode::UNAUTHENTICATED);
  CHECK(server.push("0", nullptr, 0, 1, server.valid_push(0)) == grpc::StatusCode::UNAUTHENTICATED);
  CHECK(server.push("0", "token-of-worker-1111", 0, 1, server.valid_push(0)) == grpc::StatusCode::UNAUTHENTICATED);
  CHECK(server.push("9", "token-of-worker-0000", 9, 1, server.valid_push(9)) == grpc::StatusCode::UNAUTHENTICATED);
  CHECK(server.push("x", "token-of-worker-0000", 0, 1, server.valid_push(0)) == grpc::StatusCode::UNAUTHENTICATED);
  CHECK(server.push("2", "token-of-worker-2222", 2, 1, server.valid_push(2)) == grpc::StatusCode::PERMISSION_DENIED);
  // Worker 1's credentials, speaking for worker 0.
  CHECK(server.push("1", "token-of-worker-1111", 0, 1, server.valid_push(0)) == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(server.state.version() == 0);
  const ServingCounters c = server.state.counters();
  CHECK(c.unauthenticated == 6);
  CHECK(c.revoked == 1);
  CHECK(c.received == 0);

  v1::PushReply reply;
  CHECK(server.push("0", "token-of-worker-0000", 0, 1, server.valid_push(0), &reply) == grpc::StatusCode::OK);
  CHECK(reply.outcome() == v1::PushReply::APPLIED);
  CHECK(server.state.version() == 1);
}

TEST_CASE("endpoint: a 100 MB message and random bytes on the socket are refused, and the server keeps serving") {
  LiveServer server;
  const std::string huge(100U << 20U, '\x01');
  CHECK(server.push("0", "token-of-worker-0000", 0, 1, huge) == grpc::StatusCode::RESOURCE_EXHAUSTED);

  // Random bytes straight onto the TCP socket: not HTTP/2, the connection is dropped.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(server.endpoint->port()));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0);  // NOLINT
  std::mt19937 random(7);
  std::vector<char> noise(1U << 16U);
  for (char& byte : noise) byte = static_cast<char>(random());
  (void)::send(fd, noise.data(), noise.size(), MSG_NOSIGNAL);
  ::close(fd);

  // A push whose bytes are not a push: answered, rejected, counted.
  v1::PushReply reply;
  CHECK(server.push("1", "token-of-worker-1111", 1, 1, std::string(noise.begin(), noise.begin() + 500), &reply) ==
        grpc::StatusCode::OK);
  CHECK(reply.outcome() == v1::PushReply::REJECTED);
  CHECK(server.push("0", "token-of-worker-0000", 0, 1, server.valid_push(0), &reply) == grpc::StatusCode::OK);
  CHECK(reply.outcome() == v1::PushReply::APPLIED);
  const ServingCounters c = server.state.counters();
  CHECK(c.received == 2);
  CHECK(c.applied == 1);
  CHECK(c.rejected == 1);
}

TEST_CASE("client: join, fetch and push through ServerClient, retries of a push answered as duplicates") {
  LiveServer server;
  ClientOptions options;
  options.server = server.address;
  options.credentials = channel_credentials({}, true);
  options.worker = 1;
  options.token = "token-of-worker-1111";
  options.give_up_seconds = 5;
  ServerClient client(options);
  const JoinAnswer joined = client.join();
  CHECK(joined.config.model == "mlp");
  CHECK(joined.next_push_id == 1);
  std::vector<float> params(server.layout.size(), -1.0F);
  const FetchAnswer first = client.fetch(0, params);
  CHECK(first.parameters != nullptr);
  CHECK(params == std::vector<float>(server.layout.size(), 1.0F));
  const auto bytes = push_bytes(server.layout, 1, 0);
  CHECK(client.push(1, bytes).verdict == PushVerdict::applied);
  CHECK(client.push(1, bytes).verdict == PushVerdict::duplicate);
  std::vector<float> unchanged = params;
  const FetchAnswer second = client.fetch(1, unchanged);
  CHECK(second.version == 1);
  CHECK(second.parameters == nullptr);  // the worker already holds version 1
  CHECK(second.delta_base == 0);
  CHECK(client.push(2, push_bytes(server.layout, 1, 1, 0.25F)).verdict == PushVerdict::applied);
  const FetchAnswer third = client.fetch(1, unchanged);  // two entries changed: a delta
  CHECK(third.delta_base == 1);
  CHECK(unchanged == server.state.observe().second);

  options.token = "wrong-token-000000";
  ServerClient impostor(options);
  CHECK_THROWS_WITH_AS(impostor.join(), doctest::Contains("wrong token"), Error);

  // Nothing listens there: retried, then given up with the address in the message.
  options.server = "127.0.0.1:1";
  options.give_up_seconds = 0.5;
  ServerClient nobody(options);
  CHECK_THROWS_WITH_AS(nobody.join(), doctest::Contains("127.0.0.1:1"), Error);
  CHECK(nobody.counters().retries > 0);
}

TEST_CASE("client: rounds on one stream carry a push and the next parameters; heartbeats; revocation mid-stream") {
  LiveServer server;
  ClientOptions options;
  options.server = server.address;
  options.credentials = channel_credentials({}, true);
  options.worker = 1;
  options.token = "token-of-worker-1111";
  options.give_up_seconds = 5;
  options.heartbeat_seconds = 0.05;
  ServerClient client(options);
  std::vector<float> params(server.layout.size(), -1.0F);
  const RoundAnswer first = client.round(nullptr, 0, params);
  CHECK_FALSE(first.push.has_value());
  CHECK(first.fetch.parameters != nullptr);
  CHECK(params == server.state.observe().second);

  const auto bytes = push_bytes(server.layout, 1, 0);
  const OutgoingPush push{1, bytes};
  const RoundAnswer second = client.round(&push, 0, params);
  REQUIRE(second.push.has_value());
  CHECK(second.push->verdict == PushVerdict::applied);
  CHECK(second.fetch.version == 1);
  CHECK(second.fetch.delta_base == 0);  // version 0 means "holds nothing": dense
  CHECK(params == server.state.observe().second);
  const RoundAnswer again = client.round(&push, 1, params);  // a resent round: nothing applied twice
  REQUIRE(again.push.has_value());
  CHECK(again.push->verdict == PushVerdict::duplicate);
  CHECK(server.state.version() == 1);

  // Idle between rounds: heartbeats keep the worker seen.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  CHECK(server.state.worker_stats().at(1).heartbeats >= 3);
  // The client counts a heartbeat once written; the server may not have read the latest yet.
  const std::uint64_t written = client.counters().heartbeats;
  const std::uint64_t seen = server.state.worker_stats().at(1).heartbeats;
  CHECK(written >= seen);
  CHECK(written <= seen + 1);

  // The last push wants no parameters back.
  const auto last_bytes = push_bytes(server.layout, 1, 1, 0.25F);
  const OutgoingPush last{2, last_bytes};
  const RoundAnswer final_round = client.round(&last, 1, params, true);
  CHECK(final_round.push->verdict == PushVerdict::applied);
  CHECK(final_round.fetch.version == 1);  // unchanged: no snapshot came
  CHECK(client.counters().calls == 4);

  // Revoked while its stream is open: the next message is refused, not retried, and counted.
  std::ofstream(server.tokens_file) << "0 token-of-worker-0000\n1 token-of-worker-1111 revoked\n";
  server.tokens->reload();
  CHECK_THROWS_WITH_AS(client.round(nullptr, 2, params), doctest::Contains("revoked"), Error);
  CHECK(server.state.counters().revoked == 1);
  CHECK(server.state.version() == 2);
}

namespace {

// Reads a stream's requests and never answers: a server that hangs.
class SilentService final : public v1::ParameterServer::Service {
  grpc::Status Rounds(grpc::ServerContext* /*context*/,
                      grpc::ServerReaderWriter<v1::RoundReply, v1::RoundRequest>* stream) override {
    v1::RoundRequest request;
    while (stream->Read(&request)) ++requests;
    return grpc::Status::OK;
  }

 public:
  std::atomic<int> requests{0};
};

}  // namespace

TEST_CASE("client: a round without a reply within the deadline is cancelled, resent on a new stream, then given up") {
  SilentService service;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  const std::unique_ptr<grpc::Server> silent = builder.BuildAndStart();
  REQUIRE(port != 0);
  ClientOptions options;
  options.server = "127.0.0.1:" + std::to_string(port);
  options.credentials = channel_credentials({}, true);
  options.token = "token-of-worker-0000";
  options.deadline = std::chrono::milliseconds(200);
  options.give_up_seconds = 1.0;
  options.heartbeat_seconds = 0;  // no heartbeats: the watchdog still runs
  ServerClient client(options);
  std::vector<float> params(4);
  CHECK_THROWS_WITH_AS(client.round(nullptr, 0, params), doctest::Contains("no reply within the deadline"), Error);
  CHECK(client.counters().retries >= 2);
  CHECK(service.requests >= 3);  // the round was resent on each new stream
  silent->Shutdown(std::chrono::system_clock::now());
}

}  // namespace rnn::net
