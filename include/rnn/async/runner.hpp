#pragma once
// Asynchronous parameter-server training with many emulated edge workers, in one process.
//
//   each worker, forever: fetch the model (parameters + version t0) → gradient of one mini-batch of
//   its shard → compress → encode → push; the server applies each push as it arrives
//   (parameter_server.hpp) and the worker fetches again.
//
// Two modes run the same workers, server and transport:
//
//   virtual  a discrete-event simulation on a virtual clock. A round's download, compute and upload
//            take the times of the worker's device profile (device.hpp), the upload that of the
//            push's real encoded size; the server applies pushes in virtual-time order, ties broken
//            by (time, worker id, sequence number). Gradients are computed ahead, in parallel, on a
//            pool of `threads` threads: a round's gradient depends only on the version it fetched and
//            the worker's own state, and a round is computed before any event that could follow it
//            is processed, so the run is bit-identical for a seed whatever `threads` is.
//   threads  the workers' rounds really run concurrently on `threads` threads against the server;
//            each worker fetches when its previous push is done, then waits its turn for a thread,
//            so with N workers about N − 1 pushes land between a fetch and its push. Staleness is
//            whatever the scheduling produces: not reproducible. Device times and availability
//            traces are not emulated (crash, departure and loss are).
//
// Memory: one model copy per version still needed by a round not yet computed (virtual mode bounds
// these to a few per thread; threads mode holds one per distinct version in the queue), one
// workspace and gradient buffer per thread, and per worker its compressor's state and one encoded
// push in flight.
//
// The run stops at max_updates applied pushes, when every worker has left, when the server has
// refused every push for a long stretch (10 per worker in a row), when the model
// diverges (a non-finite test loss or worker gradient: a result, reported, not a crash), or when
// *stop becomes true (e.g. on SIGINT). The parameters are then those of the server.
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "rnn/async/device.hpp"
#include "rnn/async/reliability.hpp"
#include "rnn/async/worker.hpp"
#include "rnn/compress/codec.hpp"
#include "rnn/compress/registry.hpp"
#include "rnn/data/dataset.hpp"
#include "rnn/data/shards.hpp"
#include "rnn/models/model.hpp"
#include "rnn/server/parameter_server.hpp"
#include "rnn/train/metrics_writer.hpp"

namespace rnn {

enum class AsyncMode : std::uint8_t { virtual_time, threads };
[[nodiscard]] AsyncMode parse_async_mode(std::string_view name);  // "virtual", "threads"
[[nodiscard]] std::string_view to_string(AsyncMode mode);

struct AsyncOptions {
  AsyncMode mode = AsyncMode::virtual_time;
  std::size_t workers = 100;
  int batch = 10;
  CompressorOptions compressor;  // its seed and stream are set per worker from `seed`
  CodecOptions codec;
  ServerOptions server;
  float lr_decay = 1.0F;             // the server's learning rate is multiplied by this …
  std::uint64_t lr_decay_every = 0;  // … every this many updates (0: constant)
  std::uint64_t max_updates = 40000;
  std::uint64_t eval_every = 1000;  // evaluate every this many updates …
  double eval_every_seconds = 0.0;  // … or, if > 0 (virtual mode), every this many virtual seconds
  std::size_t eval_limit = 0;       // evaluate on the first N test samples (0: all)
  // Test images per evaluation batch; 0: the workers' batch, whose buffers every thread already
  // holds (another size reallocates them around each evaluation).
  int eval_batch = 0;
  std::size_t threads = 0;  // pool threads (0: the machine's cores)
  std::uint64_t seed = 1;
  ShardPlan shards;
  DeviceOptions devices;
  ReliabilityOptions reliability;
  GradientShaping shaping;  // what workers do to their gradient before compressing (clipping, normalisation)
  bool progress = true;     // a progress bar on stderr when it is a terminal
  const std::atomic<bool>* stop = nullptr;
  // Checkpoints (checkpoint.hpp): written to `checkpoint` at every evaluation point whose update
  // count is a multiple of checkpoint_every (0: none), when the run is stopped through *stop, and at
  // its end (not after a divergence: the last good one is kept). `resume` continues the run a
  // checkpoint holds, which must have been written under the same settings; in the virtual mode
  // the continued run is bit-identical to one that was never interrupted. In the threads mode the
  // rounds in flight at the checkpoint are lost and the workers fetch afresh.
  std::filesystem::path checkpoint;
  std::uint64_t checkpoint_every = 0;
  std::filesystem::path resume;
};

// Throws rnn::Error naming the first inconsistent setting.
void check(const AsyncOptions& options);
// check(options), then the residual rule (compress/compressor.hpp) for the compressor the options
// build on `layout` and the server step they describe. run_async calls it at its start; a dry run
// calls it to refuse the same settings without training.
void check(const AsyncOptions& options, const ParameterLayout& layout);

// "key=value;…" of every setting that shapes the run of `model` on a training set of `samples`:
// what a checkpoint is checked against.
[[nodiscard]] std::string run_settings(const AsyncOptions& options, const Model& model, std::size_t samples);

// One evaluation point. Counts are cumulative; staleness statistics cover the pushes applied since
// the previous point; delays are in server updates (version at arrival − version fetched).
struct EvalPoint {
  std::uint64_t updates = 0;  // pushes applied = server version
  double virtual_seconds = 0.0;
  double wall_seconds = 0.0;
  std::uint64_t ingress_bytes = 0;  // push bytes that reached the server
  std::uint64_t egress_bytes = 0;   // model bytes sent to workers
  double test_accuracy = 0.0;
  double test_loss = 0.0;
  double train_loss = 0.0;  // mean batch loss of the workers' rounds since the previous point
  double learning_rate = 0.0;
  double staleness_mean = 0.0;
  std::uint64_t staleness_p50 = 0;
  std::uint64_t staleness_p99 = 0;
  std::uint64_t staleness_max = 0;
  double tau_mean = 0.0;          // mean per-entry staleness τ_i of the applied entries since the previous point
  std::uint64_t pushes_sent = 0;  // pushes whose upload started
  std::uint64_t pushes_applied = 0;
  std::uint64_t pushes_lost = 0;      // sent but never received (message loss, crash or departure in upload)
  std::uint64_t pushes_rejected = 0;  // received, refused by the server (see the by-cause counts)
  std::uint64_t rejected_malformed = 0;
  std::uint64_t rejected_non_finite = 0;
  std::uint64_t rejected_from_the_future = 0;
  std::uint64_t rejected_too_stale = 0;
  std::uint64_t crashes = 0;
  std::uint64_t departures = 0;
  std::uint64_t workers_active = 0;  // workers that have not left
  bool restored = false;             // read from the checkpoint the run resumed from (already reported once)
  // Pushes applied since the previous point, by delay: delay_counts[d] pushes had delay d. Not in
  // metrics records nor in checkpoints (a restored point has none).
  std::vector<std::uint64_t> delay_counts;
};

// rejected: the server refused every push for a long stretch (10 per worker in a row): the run
// cannot make progress, and the report says why the last push was refused.
// The record of an evaluation point in a metrics file (rnn/train/metrics_writer.hpp), with the
// keys of EvalPoint's fields in its order (restored excepted).
[[nodiscard]] MetricsRecord eval_record(const EvalPoint& point);

enum class StopReason : std::uint8_t { max_updates, diverged, no_workers, interrupted, rejected };
[[nodiscard]] std::string_view to_string(StopReason reason);

struct AsyncReport {
  std::vector<EvalPoint> points;
  StopReason reason = StopReason::max_updates;
  std::string message;  // what stopped the run, for a person
};

// Trains `params` (in: initial, out: the server's final parameters) with the training set split
// among the workers, evaluating on data.test; calls on_eval at every evaluation point.
AsyncReport run_async(const Model& model, std::vector<float>& params, const DatasetPair& data,
                      const AsyncOptions& options, const std::function<void(const EvalPoint&)>& on_eval = {});

}  // namespace rnn
