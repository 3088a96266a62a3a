#include "rnn/async/worker.hpp"

#include <cmath>

#include <fmt/format.h>

#include "rnn/compress/message.hpp"
#include "rnn/core/error.hpp"

namespace rnn {

Worker::Worker(std::uint32_t id, std::vector<std::uint32_t> shard, std::unique_ptr<PushEncoder> encoder,
               std::uint64_t seed)
    : id_(id), order_(std::move(shard)), shuffle_rng_(seed, 0xA5C0000000ULL + id), encoder_(std::move(encoder)) {
  if (order_.empty()) throw Error(fmt::format("worker {} has an empty shard", id));
  shuffle_rng_.shuffle(std::span(order_));
}

void Worker::next_batch(int batch, std::vector<std::size_t>& rows) {
  rows.resize(static_cast<std::size_t>(batch));
  for (auto& row : rows) {
    if (cursor_ == order_.size()) {  // a pass is over: a new order for the next one
      shuffle_rng_.shuffle(std::span(order_));
      cursor_ = 0;
    }
    row = order_[cursor_++];
  }
}

RoundResult Worker::compute_round(const Model& model, std::span<const float> params, std::uint64_t version,
                                  const Dataset& train, int batch, float clip_norm, RoundScratch& s) {
  next_batch(batch, s.rows);
  gather_batch(train, s.rows, s.images, s.labels);
  // Dropout masks from (worker, round): independent of the thread that computes the round.
  model.reseed_workspace(s.workspace, (std::uint64_t{id_} << 32U) ^ rounds_);
  ++rounds_;
  s.gradient.resize(model.parameter_count());
  const LossSum loss = model.loss_and_gradient(params, s.images, s.labels, s.gradient, s.workspace);
  RoundResult result;
  result.loss = loss.mean_loss();
  result.gradient_norm = l2_norm(s.gradient);
  if (!std::isfinite(result.gradient_norm) || !std::isfinite(result.loss)) {
    result.finite = false;
    push_.clear();
    return result;
  }
  if (clip_norm > 0.0F && result.gradient_norm > clip_norm) {
    const auto scale = static_cast<float>(clip_norm / result.gradient_norm);
    for (float& g : s.gradient) g *= scale;
  }
  const auto bytes = encoder_->encode(s.gradient, version, id_);
  push_.assign(bytes.begin(), bytes.end());
  result.bytes = push_.size();
  return result;
}

}  // namespace rnn
