#pragma once
// One emulated edge worker: its data shard, its own random streams, and its own compressor (whose
// memory, e.g. an error-feedback residual, stays with the worker from push to push). A round is
//
//   next mini-batch of the shard → gradient at the fetched parameters → optional shaping (l2
//   clipping, or every tensor scaled to unit l2 norm) → compress → encode
//
// and what it leaves is the encoded push (the codec's bytes: what the server receives and what
// the byte counts count). The worker walks its shard in a shuffled order, reshuffled at each pass.
//
// The activations, the mini-batch and the dense gradient live in the caller's RoundScratch (one
// per pool thread), not in the worker: a worker in flight holds only its encoded push, so memory
// grows with the model times the number of threads, not times the number of workers. A round's
// result depends only on the parameters, the worker's state and (worker id, round number), which
// also seed its dropout masks: the same whatever thread computes it.
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "rnn/compress/push.hpp"
#include "rnn/core/rng.hpp"
#include "rnn/data/dataset.hpp"
#include "rnn/models/model.hpp"

namespace rnn {

struct RoundScratch {
  Workspace workspace;
  Matrix images;
  std::vector<std::uint8_t> labels;
  std::vector<std::size_t> rows;
  std::vector<float> gradient;
};

// What a worker does to its gradient before compressing it.
struct GradientShaping {
  float clip_norm = 0.0F;          // > 0: scale the whole gradient down to this l2 norm if it is longer
  bool normalise_tensors = false;  // scale each tensor's gradient to unit l2 norm (a zero tensor stays zero)
};

struct RoundResult {
  double loss = 0.0;           // mean training loss of the batch (before the step)
  bool finite = true;          // false: the gradient was not finite, nothing was encoded
  std::size_t bytes = 0;       // size of the encoded push
  double gradient_norm = 0.0;  // l2 norm of the gradient before clipping (0 when there is no clipping)
};

class Worker {
 public:
  Worker(std::uint32_t id, std::vector<std::uint32_t> shard, std::unique_ptr<PushEncoder> encoder, std::uint64_t seed);

  [[nodiscard]] std::uint32_t id() const { return id_; }
  [[nodiscard]] std::size_t shard_size() const { return order_.size(); }
  [[nodiscard]] std::uint64_t rounds() const { return rounds_; }

  // Computes one round at `params` (server version `version`) and keeps the encoded push, until the
  // next round, in push(), after shaping the gradient (clipping first, then normalisation).
  RoundResult compute_round(const Model& model, std::span<const float> params, std::uint64_t version,
                            const Dataset& train, int batch, const GradientShaping& shaping, RoundScratch& scratch);

  [[nodiscard]] std::span<const std::uint8_t> push() const { return push_; }
  [[nodiscard]] const PushEncoder& encoder() const { return *encoder_; }

  // Checkpoints: position in the shard (its order, cursor, random stream), round count, the push
  // in flight and the compressor's state. load_state expects a worker built for the same shard and
  // options; it throws rnn::Error, changing nothing of the worker's own state, on anything else.
  void save_state(std::vector<std::uint8_t>& out) const;
  void load_state(wire::Reader& in);

 private:
  void next_batch(int batch, std::vector<std::size_t>& rows);

  std::uint32_t id_;
  std::vector<std::uint32_t> order_;  // the shard, in this pass's order
  std::size_t cursor_ = 0;
  Rng shuffle_rng_;
  std::uint64_t rounds_ = 0;
  std::unique_ptr<PushEncoder> encoder_;
  std::vector<std::uint8_t> push_;
};

}  // namespace rnn
