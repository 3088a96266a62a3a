// rnnl-ps: the asynchronous parameter server as a network service (gRPC, TLS by default). Workers
// (rnnl-worker) join with their id and token, receive the run's configuration, and push encoded
// gradients; the server applies them exactly as the emulator's server does, evaluates on the test
// set every --eval-every updates, writes a JSON Lines record and a checkpoint there, and stops at
// --max-updates.
#include <omp.h>
#include <pthread.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <thread>
#include <tuple>

#include <fmt/format.h>

#include "async_command.hpp"
#include "option_checks.hpp"
#include "rnn/async/checkpoint.hpp"
#include "rnn/compress/compressor.hpp"
#include "rnn/compress/registry.hpp"
#include "rnn/core/atomic_file.hpp"
#include "rnn/core/error.hpp"
#include "rnn/data/dataset.hpp"
#include "rnn/models/defaults.hpp"
#include "rnn/models/registry.hpp"
#include "rnn/net/credentials.hpp"
#include "rnn/net/grpc_server.hpp"
#include "rnn/net/serving_state.hpp"
#include "rnn/net/tokens.hpp"
#include "rnn/train/metrics_writer.hpp"
#include "rnn/train/trainer.hpp"

namespace {

using rnn::cli::UsageError;

struct Cli {
  std::string listen = "127.0.0.1:50051";
  std::string port_file;
  std::string tls_cert;
  std::string tls_key;
  std::string client_ca;
  bool insecure = false;
  std::string tokens;
  std::string model = "cnn";
  std::string dataset = "mnist";
  std::string data_dir;
  std::size_t train_limit = 0;
  std::optional<int> batch;
  std::optional<float> lr;
  std::uint64_t seed = 1;
  int threads = 0;
  std::string out;
  std::string worker_stats;
  std::string checkpoint;
  std::string resume;
  double linger = 10.0;
  double silent_after = 30.0;
  std::size_t max_message = 0;
  rnn::app::AsyncCli async;
};

// The emulator's options that describe emulated devices or its own files: not a server's.
const std::vector<std::string>& emulator_only_options() {
  static const std::vector<std::string> names{"--mode",         "--speed",
                                              "--uplink",       "--downlink",
                                              "--latency",      "--sample-seconds",
                                              "--crash-prob",   "--down-time",
                                              "--leave-prob",   "--loss-prob",
                                              "--availability", "--eval-every-seconds",
                                              "--checkpoint",   "--checkpoint-every",
                                              "--resume",       "--staleness-out"};
  return names;
}

std::atomic<bool> stop_requested{false};

sigset_t handled_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  for (const int s : {SIGINT, SIGTERM, SIGHUP, SIGUSR1}) sigaddset(&signals, s);
  return signals;
}

// The thread that waits for signals; SIGUSR1 ends it, which the destructor sends (also when the
// main thread leaves by an exception).
class SignalThread {
 public:
  template <typename F>
  explicit SignalThread(F&& body) : thread_(std::forward<F>(body)) {}
  ~SignalThread() {
    pthread_kill(thread_.native_handle(), SIGUSR1);
    thread_.join();
  }
  SignalThread(const SignalThread&) = delete;
  SignalThread& operator=(const SignalThread&) = delete;
  SignalThread(SignalThread&&) = delete;
  SignalThread& operator=(SignalThread&&) = delete;

 private:
  std::thread thread_;
};

void add_options(CLI::App& app, Cli& c) {
  using rnn::cli::FiniteRange;
  using rnn::cli::WholeNumber;
  // The emulator's run options first, without those that describe emulated devices or its files.
  rnn::app::add_async_options(app, c.async);
  for (const std::string& name : emulator_only_options()) app.remove_option(app.get_option(name));
  const std::string net = "Network and security";
  app.add_option("--listen", c.listen, "Address to serve on, host:port (port 0: any free port, see --port-file)")
      ->group(net)
      ->capture_default_str();
  app.add_option("--port-file", c.port_file, "Write the port actually bound to this file (for scripts)")->group(net);
  app.add_option("--tls-cert", c.tls_cert, "The server's certificate chain (PEM)")->group(net);
  app.add_option("--tls-key", c.tls_key, "The server's private key (PEM)")->group(net);
  app.add_option("--client-ca", c.client_ca, "Mutual TLS: require worker certificates signed by this CA (PEM)")
      ->group(net);
  app.add_flag("--insecure", c.insecure,
               "Plain TCP, no TLS: for tests on loopback only (tokens then cross the wire in clear)")
      ->group(net);
  app.add_option("--tokens", c.tokens, "Token file: one 'WORKER-ID TOKEN [revoked]' per line (reread on SIGHUP)")
      ->group(net)
      ->required();
  app.add_option("--max-message", c.max_message,
                 "Largest request accepted, in bytes [twice a dense push of the model, at least 1 MiB]")
      ->group(net)
      ->check(rnn::cli::WholeNumber(1024, 1U << 30U));
  app.add_option("--silent-after", c.silent_after,
                 "A worker not heard from (call, push or heartbeat) for this many seconds counts as silent in the "
                 "metrics (workers_silent), not active")
      ->group(net)
      ->check(FiniteRange(0.001, 86400.0))
      ->capture_default_str();
  app.add_option("--linger", c.linger, "Seconds to keep answering after the run ends, so workers learn it is over")
      ->group(net)
      ->check(FiniteRange(0.0, 3600.0))
      ->capture_default_str();
  const std::string run = "Run";
  app.add_option("--model", c.model, "Model the workers train (rnnl-train --model)")
      ->group(run)
      ->check(CLI::IsMember(rnn::model_names()))
      ->capture_default_str();
  app.add_option("--dataset", c.dataset, "mnist or fashion")
      ->group(run)
      ->check(CLI::IsMember({"mnist", "fashion"}))
      ->capture_default_str();
  app.add_option("--data-dir", c.data_dir, "Folder of the dataset's IDX files [data/<dataset>]")->group(run);
  app.add_option("--train-limit", c.train_limit, "Use the first N training samples (0: all); workers must match")
      ->group(run)
      ->check(WholeNumber(0, 1U << 30U));
  app.add_option("--batch", c.batch, "Workers' mini-batch [the model's async default]")
      ->group(run)
      ->check(WholeNumber(1, 1U << 20U));
  app.add_option("--lr", c.lr, "Server learning rate [the model's async default]")
      ->group(run)
      ->check(FiniteRange(1e-12, 1e6));
  app.add_option("--seed", c.seed, "Seed of the initial model, the shards and the compressors")
      ->group(run)
      ->check(WholeNumber(0, std::numeric_limits<std::uint64_t>::max()))
      ->capture_default_str();
  app.add_option("--threads", c.threads, "Threads for evaluation (0: the cores)")
      ->group(run)
      ->check(WholeNumber(0, 1024));
  app.add_option("--out", c.out, "Metrics file (.jsonl or .csv): one record per evaluation")->group(run);
  app.add_option("--worker-stats", c.worker_stats, "CSV of per-worker connection statistics, written at the end")
      ->group(run);
  app.add_option("--checkpoint", c.checkpoint,
                 "Write the server's state here at every evaluation and at the end (atomically)")
      ->group(run);
  app.add_option("--resume", c.resume, "Continue from this checkpoint (written under the same settings)")->group(run);
}

// The counters at the moment the evaluated parameters were taken.
struct Moment {
  std::uint64_t version = 0;
  std::vector<float> parameters;
  rnn::net::ServingCounters counters;
  rnn::ServerCounters server;
  std::map<std::uint32_t, rnn::net::WorkerStats> workers;
  double elapsed = 0.0;  // the clock of WorkerStats::last_seen_seconds
};

Moment take_moment(const rnn::net::ServingState& state) {
  Moment m;
  std::tie(m.version, m.parameters) = state.observe();
  m.counters = state.counters();
  m.server = state.server_counters();
  m.workers = state.worker_stats();
  m.elapsed = state.elapsed_seconds();
  return m;
}

rnn::MetricsRecord server_record(const Moment& m, const rnn::Evaluation& e, double wall, double silent_after) {
  const rnn::net::ServingCounters& c = m.counters;
  const auto by = [&](rnn::PushOutcome o) { return m.server.pushes[static_cast<std::size_t>(o)]; };
  const auto& workers = m.workers;
  std::uint64_t active = 0;
  std::uint64_t silent = 0;
  for (const auto& [id, w] : workers) {
    if (w.left) continue;
    (m.elapsed - w.last_seen_seconds > silent_after ? silent : active) += 1;
  }
  rnn::MetricsRecord r;
  r.add("updates", m.version)
      .add("wall_seconds", wall)
      .add("ingress_bytes", c.ingress_bytes)
      .add("egress_bytes", c.egress_bytes)
      .add("test_accuracy", e.accuracy)
      .add("test_loss", e.loss)
      .add("pushes_received", c.received)
      .add("pushes_applied", c.applied)
      .add("pushes_rejected", c.rejected)
      .add("pushes_after_end", c.after_end)
      .add("duplicates", c.duplicates)
      .add("rejected_malformed", by(rnn::PushOutcome::malformed))
      .add("rejected_non_finite", by(rnn::PushOutcome::non_finite))
      .add("rejected_from_the_future", by(rnn::PushOutcome::from_the_future))
      .add("rejected_too_stale", by(rnn::PushOutcome::too_stale))
      .add("rejected_wrong_sender", c.wrong_sender)
      .add("calls_unauthenticated", c.unauthenticated)
      .add("calls_revoked", c.revoked)
      .add("workers_seen", workers.size())
      .add("workers_active", active)
      .add("workers_silent", silent);
  return r;
}

void write_worker_stats(const std::filesystem::path& path, const rnn::net::ServingState& state) {
  std::string csv =
      "worker,joins,fetches,pushes,applied,duplicates,push_bytes,fetch_bytes,last_push_id,heartbeats,last_seen_seconds,"
      "left\n";
  for (const auto& [id, w] : state.worker_stats())
    csv += fmt::format("{},{},{},{},{},{},{},{},{},{},{:.3f},{}\n", id, w.joins, w.fetches, w.pushes, w.applied,
                       w.duplicates, w.push_bytes, w.fetch_bytes, w.last_push_id, w.heartbeats, w.last_seen_seconds,
                       w.left ? 1 : 0);
  rnn::write_file_atomically(path, csv);
}

int run(const Cli& c, const CLI::App& app) {
  for (const auto& [option, path] : {std::pair{"--out", &c.out}, std::pair{"--worker-stats", &c.worker_stats},
                                     std::pair{"--checkpoint", &c.checkpoint}, std::pair{"--port-file", &c.port_file}})
    if (app.count(option) > 0) {
      if (path->empty()) throw UsageError(option, "needs a path, got an empty one");
      rnn::check_writable(*path);
    }
  if (c.insecure && (app.count("--tls-cert") + app.count("--tls-key") + app.count("--client-ca")) > 0)
    throw UsageError("--insecure", "turns TLS off, but TLS files were given");
  if (!c.insecure && (c.tls_cert.empty() || c.tls_key.empty()))
    throw UsageError("--tls-cert", "TLS needs --tls-cert and --tls-key (or --insecure, for loopback tests only)");
  if (c.threads > 0) omp_set_num_threads(c.threads);

  rnn::ModelOptions model_options = rnn::default_model_options(c.model);
  model_options.seed = c.seed;
  model_options.seed_init = rnn::async_defaults(c.model).seed_init;
  const auto model = rnn::make_model(c.model, model_options);
  std::vector<float> params = model->initial_parameters(c.seed);
  const std::filesystem::path dir =
      c.data_dir.empty() ? rnn::default_data_dir(c.dataset) : std::filesystem::path(c.data_dir);
  rnn::DatasetPair data;
  try {
    data = rnn::load_idx_dataset(dir, c.train_limit);
  } catch (const rnn::Error& e) {
    throw rnn::Error(fmt::format("{} (to fetch {}: {})", e.what(), c.dataset, rnn::fetch_hint(c.dataset)));
  }
  rnn::check_fits(*model, data.train);
  rnn::check_fits(*model, data.test);

  rnn::app::AsyncCommon common;
  common.dataset = c.dataset;
  common.batch = c.batch;
  common.lr = c.lr;
  common.seed = c.seed;
  common.threads = c.threads;
  const rnn::AsyncOptions o = rnn::app::make_async_options(c.async, common, c.model);

  rnn::net::ServingState state(model->layout(), params, o.server, o.max_updates);
  const std::string settings = rnn::run_settings(o, *model, data.train.size());
  if (!c.resume.empty()) {
    const std::vector<std::uint8_t> payload = rnn::read_checkpoint(c.resume, settings);
    rnn::wire::Reader in(payload, c.resume);
    state.load_state(in);
    if (in.remaining() != 0) throw rnn::Error(fmt::format("{}: trailing bytes after the server state", c.resume));
  }
  rnn::net::WorkerConfig config;
  config.model = c.model;
  config.model_seed = c.seed;
  config.seed_init = model_options.seed_init;
  config.parameters = model->parameter_count();
  config.train_samples = data.train.size();
  config.workers = static_cast<std::uint32_t>(o.workers);
  config.batch = o.batch;
  config.seed = o.seed;
  config.shards = o.shards;
  config.compressor = o.compressor;
  config.codec = o.codec;
  config.shaping = o.shaping;
  // The residual rule (compressor.hpp), checked as the emulator checks it: a memory that writes off
  // what it delivered needs every delivered value applied in full at one step size.
  const bool constant_step = o.server.policy == rnn::StepPolicy::plain && o.server.rule == rnn::ServerRule::sgd &&
                             (o.lr_decay_every == 0 || o.lr_decay == 1.0F);
  rnn::check_step_scale(*rnn::make_compressor(o.compressor, model->layout()),
                        constant_step ? rnn::StepScale::constant : rnn::StepScale::varying);

  rnn::net::TokenTable tokens(c.tokens);
  rnn::net::EndpointOptions endpoint_options;
  endpoint_options.listen = c.listen;
  endpoint_options.credentials = rnn::net::server_credentials({c.tls_cert, c.tls_key, c.client_ca}, c.insecure);
  endpoint_options.max_message_bytes =
      c.max_message > 0 ? c.max_message : std::max<std::size_t>(1U << 20U, 8 * model->parameter_count() + 4096);

  const sigset_t signals = handled_signals();
  rnn::net::GrpcEndpoint endpoint(state, tokens, config, endpoint_options);
  SignalThread signal_thread([&] {
    for (;;) {
      int signal = 0;
      if (sigwait(&signals, &signal) != 0) continue;
      if (signal == SIGHUP) {
        try {
          tokens.reload();
          fmt::print(stderr, "rnnl-ps: {} reread, {} workers listed\n", c.tokens, tokens.size());
        } catch (const rnn::Error& e) {
          fmt::print(stderr, "rnnl-ps: {} not reread, the old table stays: {}\n", c.tokens, e.what());
        }
        continue;
      }
      if (signal == SIGUSR1) return;  // the main thread is done
      stop_requested = true;
      state.finish();
      return;
    }
  });

  if (!c.port_file.empty()) rnn::write_file_atomically(c.port_file, fmt::format("{}\n", endpoint.port()));
  fmt::print(
      "rnnl-ps: {} ({} parameters), {} workers, {} (ratio {}), staleness {}, lr {}; serving on port {} ({}), "
      "{} tokens from {}{}\n",
      model->name(), model->parameter_count(), o.workers, o.compressor.name, o.compressor.ratio,
      rnn::to_string(o.server.policy), o.server.learning_rate, endpoint.port(),
      c.insecure ? "INSECURE: no TLS" : (c.client_ca.empty() ? "TLS" : "mutual TLS"), tokens.size(), c.tokens,
      c.resume.empty() ? "" : fmt::format(", resumed at update {}", state.version()));
  std::fflush(stdout);

  rnn::MetricsRecord run_fields;
  run_fields.add("trainer", "network")
      .add("model", model->name())
      .add("dataset", c.dataset)
      .add("workers", o.workers)
      .add("batch", o.batch)
      .add("compressor", o.compressor.name)
      .add("ratio", o.compressor.ratio)
      .add("staleness", rnn::to_string(o.server.policy))
      .add("lr", o.server.learning_rate)
      .add("seed", o.seed);
  std::optional<rnn::MetricsWriter> metrics;
  if (!c.out.empty()) metrics.emplace(c.out, run_fields);
  const auto started = std::chrono::steady_clock::now();
  const auto point = [&] {
    const Moment moment = take_moment(state);
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    const rnn::Evaluation e = rnn::evaluate(*model, moment.parameters, data.test, 256);
    const rnn::net::ServingCounters& counters = moment.counters;
    const std::uint64_t version = moment.version;
    fmt::print(
        "updates {:>7}  test {:6.2f}%  loss {:.4f}  in {:9.2f} MB  pushes {} applied, {} rejected, {} "
        "duplicate  {:6.1f} s\n",
        version, 100.0 * e.accuracy, e.loss, static_cast<double>(counters.ingress_bytes) / 1e6, counters.applied,
        counters.rejected, counters.duplicates, wall);
    std::fflush(stdout);
    if (metrics) metrics->write(server_record(moment, e, wall, c.silent_after));
    if (!c.checkpoint.empty()) {
      std::vector<std::uint8_t> payload;
      state.save_state(payload);
      rnn::write_checkpoint(c.checkpoint, settings, payload);
    }
    return e;
  };

  const std::uint64_t every = o.eval_every > 0 ? o.eval_every : o.max_updates;
  std::uint64_t next = (state.version() / every + 1) * every;
  std::uint64_t last_point = state.version();
  while (!state.done()) {
    const std::uint64_t version = state.wait_for_version(std::min(next, o.max_updates), std::chrono::seconds(1));
    if (version >= next && !stop_requested) {
      point();
      last_point = version;
      next = (version / every + 1) * every;
    }
  }
  rnn::Evaluation final_eval{};
  if (state.version() != last_point || state.version() == 0) {
    final_eval = point();
  } else {
    auto [version, snapshot] = state.observe();
    final_eval = rnn::evaluate(*model, snapshot, data.test, 256);
  }
  // Workers learn that the run is over from their next reply; give them the time to ask.
  const auto linger_end = std::chrono::steady_clock::now() + std::chrono::duration<double>(c.linger);
  while (std::chrono::steady_clock::now() < linger_end && !stop_requested) {
    const auto workers = state.worker_stats();
    if (std::all_of(workers.begin(), workers.end(), [](const auto& w) { return w.second.left; })) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  endpoint.shutdown();
  if (!c.worker_stats.empty()) write_worker_stats(c.worker_stats, state);
  if (!c.checkpoint.empty()) {
    std::vector<std::uint8_t> payload;
    state.save_state(payload);
    rnn::write_checkpoint(c.checkpoint, settings, payload);
  }
  const rnn::net::ServingCounters counters = state.counters();
  fmt::print(
      "summary: rnnl-ps {} {}: test accuracy {:.2f}% after {} updates, {:.2f} MB received; pushes: {} "
      "received = {} applied + {} rejected + {} after the end; {} duplicates; {} calls refused "
      "(unauthenticated {}, revoked {})\n",
      model->name(), o.compressor.name, 100.0 * final_eval.accuracy, state.version(),
      static_cast<double>(counters.ingress_bytes) / 1e6, counters.received, counters.applied, counters.rejected,
      counters.after_end, counters.duplicates, counters.unauthenticated + counters.revoked, counters.unauthenticated,
      counters.revoked);
  return stop_requested ? 130 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Signals go to one thread that waits for them (in run()); every other thread, OpenMP's and
  // gRPC's included, must have them blocked from its start, so this comes before any thread.
  const sigset_t signals = handled_signals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  Cli cli;
  CLI::App app{
      "rnnl-ps: the asynchronous parameter server over gRPC. Workers (rnnl-worker) join with an id and a token "
      "from --tokens, get the run's configuration from the server, and push encoded gradients (AdaComp by "
      "default), which are applied as by rnnl-train --trainer async.\n\nExample (certificates: "
      "scripts/make-test-certs.sh):\n  rnnl-ps --tls-cert certs/server.pem --tls-key certs/server.key --tokens "
      "certs/tokens.txt --model mlp --workers 3 --out ps.jsonl"};
  add_options(app, cli);
  app.failure_message(
      [](const CLI::App*, const CLI::Error& e) { return fmt::format("rnnl-ps: error: {} (see --help)\n", e.what()); });
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  try {
    return run(cli, app);
  } catch (const UsageError& e) {
    fmt::print(stderr, "rnnl-ps: error: {} (see --help)\n", e.what());
    return 2;
  } catch (const rnn::Error& e) {
    fmt::print(stderr, "rnnl-ps: error: {}\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "rnnl-ps: unexpected error: {}\n", e.what());
    return 1;
  }
}
