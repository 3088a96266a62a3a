#pragma once
// Softmax cross-entropy over a batch of logits z (batch x classes), labels y:
//
//   p = softmax(z)        L = −(1/B) Σ_b log p[b, y_b]        ∂L/∂z = (p − onehot(y)) / B
//
// Computed with the max subtracted (no overflow) and log-sum-exp (no log of 0).
#include <cstdint>
#include <span>

#include "rnn/core/tensor.hpp"

namespace rnn {

struct LossSum {
  double loss = 0.0;         // Σ_b −log p[b, y_b] (a sum, so batches can be accumulated)
  std::int64_t correct = 0;  // samples whose arg-max logit is the label
  std::int64_t count = 0;

  LossSum& operator+=(const LossSum& other) {
    loss += other.loss;
    correct += other.correct;
    count += other.count;
    return *this;
  }
  [[nodiscard]] double mean_loss() const { return count > 0 ? loss / static_cast<double>(count) : 0.0; }
  [[nodiscard]] double accuracy() const {
    return count > 0 ? static_cast<double>(correct) / static_cast<double>(count) : 0.0;
  }
};

// If dlogits is not null it receives ∂(mean loss)/∂z.
LossSum softmax_cross_entropy(const Matrix& logits, std::span<const std::uint8_t> labels, Matrix* dlogits);

}  // namespace rnn
