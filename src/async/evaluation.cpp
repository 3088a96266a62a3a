#include "evaluation.hpp"

#include <algorithm>
#include <latch>
#include <limits>
#include <numeric>

namespace rnn::async_detail {

LossSum evaluate_chunk(const Model& model, std::span<const float> params, const Dataset& data, std::size_t first,
                       std::size_t count, RoundScratch& s) {
  s.rows.resize(count);
  std::iota(s.rows.begin(), s.rows.end(), first);
  gather_batch(data, s.rows, s.images, s.labels);
  const Matrix& logits = model.forward(params, s.images, s.workspace, false);
  return softmax_cross_entropy(logits, s.labels, nullptr);
}

namespace {

std::size_t samples(const Dataset& data, std::size_t limit) {
  return limit == 0 ? data.size() : std::min(limit, data.size());
}

}  // namespace

LossSum evaluate_on_pool(TaskPool& pool, std::vector<RoundScratch>& scratch, const Model& model,
                         std::span<const float> params, const Dataset& data, std::size_t limit, int batch) {
  const std::size_t n = samples(data, limit);
  const auto b = static_cast<std::size_t>(batch);
  const std::size_t chunks = (n + b - 1) / b;
  std::vector<LossSum> parts(chunks);
  std::latch done(static_cast<std::ptrdiff_t>(chunks));
  for (std::size_t c = 0; c < chunks; ++c) {
    pool.submit(-std::numeric_limits<double>::infinity(), [&, c](std::size_t thread) {
      const std::size_t first = c * b;
      parts[c] = evaluate_chunk(model, params, data, first, std::min(b, n - first), scratch[thread]);
      done.count_down();
    });
  }
  done.wait();
  LossSum total;
  for (const LossSum& part : parts) total += part;
  return total;
}

LossSum evaluate_here(RoundScratch& scratch, const Model& model, std::span<const float> params, const Dataset& data,
                      std::size_t limit, int batch) {
  const std::size_t n = samples(data, limit);
  const auto b = static_cast<std::size_t>(batch);
  LossSum total;
  for (std::size_t first = 0; first < n; first += b)
    total += evaluate_chunk(model, params, data, first, std::min(b, n - first), scratch);
  return total;
}

}  // namespace rnn::async_detail
