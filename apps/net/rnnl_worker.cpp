// rnnl-worker: one edge worker of a networked run. It joins rnnl-ps with its id and token, receives
// the run's configuration (model, data split, compressor, codec …), and then, until the server says
// the run is over: fetch the parameters → gradient of one mini-batch of its shard → compress →
// encode → push. Its pushes are the bytes the emulator's worker of the same id would send.
#include <omp.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "option_checks.hpp"
#include "rnn/core/error.hpp"
#include "rnn/data/dataset.hpp"
#include "rnn/net/credentials.hpp"
#include "rnn/net/grpc_client.hpp"
#include "rnn/net/worker_config.hpp"
#include "rnn/train/trainer.hpp"

namespace {

using rnn::cli::UsageError;

struct Cli {
  std::string server = "127.0.0.1:50051";
  std::uint32_t worker = 0;
  std::string token_file;
  std::string ca;
  std::string cert;
  std::string key;
  std::string server_name;
  bool insecure = false;
  std::string dataset = "mnist";
  std::string data_dir;
  std::size_t train_limit = 0;
  int threads = 1;
  double give_up = 120.0;
  double deadline = 30.0;
  std::uint64_t max_rounds = 0;
  std::string rpc = "stream";
  double heartbeat = 5.0;
};

std::atomic<bool> stop_requested{false};
extern "C" void on_signal(int /*signal*/) {
  stop_requested = true;
}

std::string read_token(const std::string& path) {
  std::string token;
  if (!path.empty()) {
    std::ifstream in(path);
    if (!in) throw rnn::Error(fmt::format("{}: cannot open the token file", path));
    std::getline(in, token);
    while (!token.empty() && (token.back() == '\r' || token.back() == ' ')) token.pop_back();
    if (token.empty()) throw rnn::Error(fmt::format("{}: the first line holds no token", path));
    return token;
  }
  if (const char* env = std::getenv("RNNL_TOKEN"); env != nullptr && *env != '\0') return env;
  throw UsageError("--token-file", "a token is needed: --token-file FILE, or the environment variable RNNL_TOKEN");
}

int run(const Cli& c, const CLI::App& app) {
  if (c.insecure && (app.count("--ca") + app.count("--cert") + app.count("--key")) > 0)
    throw UsageError("--insecure", "turns TLS off, but TLS files were given");
  if (!c.insecure && c.ca.empty())
    throw UsageError("--ca", "TLS needs the CA that signed the server's certificate (or --insecure, loopback only)");
  if (c.cert.empty() != c.key.empty()) throw UsageError("--cert", "mutual TLS needs both --cert and --key");
  omp_set_num_threads(c.threads);

  rnn::net::ClientOptions options;
  options.server = c.server;
  options.credentials = rnn::net::channel_credentials({c.ca, c.cert, c.key}, c.insecure);
  options.server_name = c.server_name;
  options.worker = c.worker;
  options.token = read_token(c.token_file);
  options.deadline = std::chrono::milliseconds(static_cast<std::int64_t>(c.deadline * 1000.0));
  options.give_up_seconds = c.give_up;
  options.heartbeat_seconds = c.heartbeat;
  rnn::net::ServerClient client(options);

  const rnn::net::JoinAnswer joined = client.join();
  const rnn::net::WorkerConfig& config = joined.config;
  const std::filesystem::path dir =
      c.data_dir.empty() ? rnn::default_data_dir(c.dataset) : std::filesystem::path(c.data_dir);
  rnn::DatasetPair data;
  try {
    data = rnn::load_idx_dataset(dir, c.train_limit);
  } catch (const rnn::Error& e) {
    throw rnn::Error(fmt::format("{} (to fetch {}: {})", e.what(), c.dataset, rnn::fetch_hint(c.dataset)));
  }
  const auto model = rnn::net::make_config_model(config);
  rnn::check_fits(*model, data.train);
  const auto worker = rnn::net::make_config_worker(config, c.worker, *model, data.train);
  fmt::print(
      "rnnl-worker {}: joined {} at version {}: {} ({} parameters), {} of {} shards ({} samples), batch {}, "
      "{} (ratio {})\n",
      c.worker, c.server, joined.version, config.model, config.parameters, c.worker, config.workers,
      worker->shard_size(), config.batch, config.compressor.name, config.compressor.ratio);
  std::fflush(stdout);

  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::vector<float> params(model->parameter_count());
  rnn::RoundScratch scratch;
  scratch.workspace = model->make_workspace();
  std::uint64_t have = 0;
  std::uint64_t push_id = joined.next_push_id;
  std::uint64_t sent = 0;
  std::uint64_t applied = 0;
  std::uint64_t rejected = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t not_finite = 0;
  std::string last_reason;
  bool done = false;
  std::string ending = "the server ended the run";
  const auto account = [&](const rnn::net::PushAnswer& answer) {
    ++sent;
    switch (answer.verdict) {
      case rnn::net::PushVerdict::applied: ++applied; break;
      case rnn::net::PushVerdict::duplicate: ++duplicates; break;
      case rnn::net::PushVerdict::rejected:
        ++rejected;
        last_reason = answer.reason;
        break;
    }
    done = done || answer.done;
  };
  const bool streaming = c.rpc == "stream";
  std::span<const std::uint8_t> pending;  // streaming: the push that goes with the next round trip
  bool have_pending = false;
  while (!done) {
    const bool stopping = stop_requested.load();
    const bool enough = c.max_rounds > 0 && worker->rounds() >= c.max_rounds;
    if (stopping) ending = "stopped by a signal";
    if (enough) ending = fmt::format("{} rounds done (--max-rounds)", c.max_rounds);
    rnn::net::FetchAnswer fetched;
    if (streaming) {
      const rnn::net::OutgoingPush push{push_id, pending};
      const bool last = stopping || enough;
      if (last && !have_pending) break;
      const rnn::net::RoundAnswer answer = client.round(have_pending ? &push : nullptr, have, params, last);
      if (have_pending) {
        ++push_id;
        have_pending = false;
        account(*answer.push);
      }
      if (last || done) break;
      fetched = answer.fetch;
    } else {
      if (stopping || enough) break;
      fetched = client.fetch(have, params);
    }
    if (fetched.done) break;
    if (have == 0 && !fetched.parameters) throw rnn::Error("the server sent no parameters for a first fetch");
    have = fetched.version;
    const rnn::RoundResult round =
        worker->compute_round(*model, params, have, data.train, config.batch, config.shaping, scratch);
    if (!round.finite) {
      ++not_finite;  // nothing to send: the emulator would call the run diverged
      continue;
    }
    if (streaming) {
      pending = worker->push();  // valid until the next compute_round
      have_pending = true;
    } else {
      account(client.push(push_id++, worker->push()));
    }
  }
  try {
    client.leave();
  } catch (const rnn::Error&) {
    // The server may already be gone at the end of a run: nothing is lost by not saying goodbye.
  }
  const rnn::net::ClientCounters& k = client.counters();
  fmt::print(
      "summary: rnnl-worker {}: sent {} applied {} rejected {} duplicate {} not_finite {} retries {} "
      "push_bytes {} fetch_bytes {} push_seconds {:.3f} heartbeats {} ({}){}\n",
      c.worker, sent, applied, rejected, duplicates, not_finite, k.retries, k.push_bytes, k.fetch_bytes, k.push_seconds,
      k.heartbeats, ending, last_reason.empty() ? "" : "; last rejection: " + last_reason);
  return stop_requested ? 130 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  using rnn::cli::FiniteRange;
  using rnn::cli::WholeNumber;
  Cli c;
  CLI::App app{
      "rnnl-worker: one edge worker of a networked run against rnnl-ps. The server sends the run's "
      "configuration; the worker needs its id, its token and the dataset.\n\nExample:\n  rnnl-worker --server "
      "host:50051 --ca certs/ca.pem --worker 0 --token-file certs/worker0.token"};
  app.add_option("--server", c.server, "The server's address, host:port")->capture_default_str();
  app.add_option("--worker", c.worker, "This worker's id (its shard), as listed in the server's token file")
      ->required()
      ->check(WholeNumber(0, std::numeric_limits<std::uint32_t>::max()));
  app.add_option("--token-file", c.token_file, "File whose first line is this worker's token [env RNNL_TOKEN]");
  app.add_option("--ca", c.ca, "CA certificate that signed the server's certificate (PEM)");
  app.add_option("--cert", c.cert, "Mutual TLS: this worker's certificate (PEM)");
  app.add_option("--key", c.key, "Mutual TLS: this worker's private key (PEM)");
  app.add_option("--server-name", c.server_name, "Name to expect in the server's certificate [the host of --server]");
  app.add_flag("--insecure", c.insecure, "Plain TCP, no TLS: for tests on loopback only");
  app.add_option("--dataset", c.dataset, "mnist or fashion (the server's)")
      ->check(CLI::IsMember({"mnist", "fashion"}))
      ->capture_default_str();
  app.add_option("--data-dir", c.data_dir, "Folder of the dataset's IDX files [data/<dataset>]");
  app.add_option("--train-limit", c.train_limit, "The first N training samples, as the server was told")
      ->check(WholeNumber(0, 1U << 30U));
  app.add_option("--threads", c.threads, "Threads for the gradient")
      ->check(WholeNumber(1, 1024))
      ->capture_default_str();
  app.add_option("--give-up", c.give_up, "Seconds to keep retrying a call while the server is unreachable")
      ->check(FiniteRange(0.0, 86400.0))
      ->capture_default_str();
  app.add_option("--deadline", c.deadline,
                 "Seconds a single call, or a round on the stream, may take before it is cancelled and retried")
      ->check(FiniteRange(0.01, 3600.0))
      ->capture_default_str();
  app.add_option("--max-rounds", c.max_rounds, "Leave after this many rounds (0: when the server ends the run)")
      ->check(WholeNumber(0, std::numeric_limits<std::uint64_t>::max()));
  app.add_option("--rpc", c.rpc,
                 "stream: each round's push and the next parameters in one round trip on one stream, with "
                 "heartbeats between rounds; calls: a Fetch call and a Push call per round")
      ->check(CLI::IsMember({"stream", "calls"}))
      ->capture_default_str();
  app.add_option("--heartbeat", c.heartbeat, "Seconds of silence on the stream before a heartbeat (0: none)")
      ->check(FiniteRange(0.0, 3600.0))
      ->capture_default_str();
  app.failure_message([](const CLI::App*, const CLI::Error& e) {
    return fmt::format("rnnl-worker: error: {} (see --help)\n", e.what());
  });
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  try {
    return run(c, app);
  } catch (const UsageError& e) {
    fmt::print(stderr, "rnnl-worker {}: error: {} (see --help)\n", c.worker, e.what());
    return 2;
  } catch (const rnn::Error& e) {
    fmt::print(stderr, "rnnl-worker {}: error: {}\n", c.worker, e.what());
    return 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "rnnl-worker {}: unexpected error: {}\n", c.worker, e.what());
    return 1;
  }
}
