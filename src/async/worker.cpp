#include "rnn/async/worker.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include <fmt/format.h>

#include "rnn/compress/message.hpp"
#include "rnn/core/error.hpp"
#include "rnn/core/finite.hpp"
#include "rnn/core/state_io.hpp"

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
                                  const Dataset& train, int batch, const GradientShaping& shaping, RoundScratch& s) {
  const float clip_norm = shaping.clip_norm;
  next_batch(batch, s.rows);
  gather_batch(train, s.rows, s.images, s.labels);
  // Dropout masks from (worker, round): independent of the thread that computes the round.
  model.reseed_workspace(s.workspace, (std::uint64_t{id_} << 32U) ^ rounds_);
  ++rounds_;
  s.gradient.resize(model.parameter_count());
  const LossSum loss = model.loss_and_gradient(params, s.images, s.labels, s.gradient, s.workspace);
  RoundResult result;
  result.loss = loss.mean_loss();
  // The norm only when it clips: the finiteness check alone is one vectorised pass.
  if (clip_norm > 0.0F) result.gradient_norm = l2_norm(s.gradient);
  if (!std::isfinite(result.loss) || !std::isfinite(result.gradient_norm) || !all_finite(s.gradient)) {
    result.finite = false;
    push_.clear();
    return result;
  }
  if (clip_norm > 0.0F && result.gradient_norm > clip_norm) {
    const auto scale = static_cast<float>(clip_norm / result.gradient_norm);
    for (float& g : s.gradient) g *= scale;
  }
  if (shaping.normalise_tensors) {
    for (const Segment& segment : model.layout().segments()) {
      const std::span<float> g(s.gradient.data() + segment.offset, segment.size());
      const double norm = l2_norm(g);
      if (norm > 0.0) {
        const auto scale = static_cast<float>(1.0 / norm);
        for (float& v : g) v *= scale;
      }
    }
  }
  const auto bytes = encoder_->encode(s.gradient, version, id_);
  push_.assign(bytes.begin(), bytes.end());
  result.bytes = push_.size();
  return result;
}

void Worker::save_state(std::vector<std::uint8_t>& out) const {
  wire::put_u64(out, order_.size());
  for (const std::uint32_t i : order_) wire::put_u32(out, i);
  wire::put_u64(out, cursor_);
  wire::put_rng(out, shuffle_rng_);
  wire::put_u64(out, rounds_);
  wire::put_u64(out, push_.size());
  out.insert(out.end(), push_.begin(), push_.end());
  encoder_->save_state(out);
}

void Worker::load_state(wire::Reader& in) {
  const std::string what = fmt::format("worker {}", id_);
  if (in.u64("shard size") != order_.size()) throw Error(what + ": its shard has another size in the checkpoint");
  std::vector<std::uint32_t> order(order_.size());
  for (auto& i : order) i = in.u32("shard order");
  // The same samples, in the order the checkpoint's pass had reached.
  std::vector<std::uint32_t> sorted_now(order_);
  std::vector<std::uint32_t> sorted_then(order);
  std::sort(sorted_now.begin(), sorted_now.end());
  std::sort(sorted_then.begin(), sorted_then.end());
  if (sorted_now != sorted_then) throw Error(what + ": its shard holds other samples in the checkpoint");
  const std::uint64_t cursor = in.u64("shard cursor");
  if (cursor > order.size()) throw Error(what + ": shard cursor out of range");
  Rng rng = wire::get_rng(in, "shard random stream");
  const std::uint64_t rounds = in.u64("rounds");
  const auto push = in.take(static_cast<std::size_t>(in.u64("push size")), "push in flight");
  encoder_->load_state(in);
  order_ = std::move(order);
  cursor_ = static_cast<std::size_t>(cursor);
  shuffle_rng_ = rng;
  rounds_ = rounds;
  push_.assign(push.begin(), push.end());
}

}  // namespace rnn
