#include "rnn/layers/softmax_cross_entropy.hpp"

#include <cmath>

#include <fmt/format.h>

#include "rnn/core/error.hpp"

namespace rnn {

LossSum softmax_cross_entropy(const Matrix& logits, std::span<const std::uint8_t> labels, Matrix* dlogits) {
  const Eigen::Index batch = logits.rows();
  const Eigen::Index classes = logits.cols();
  if (static_cast<std::size_t>(batch) != labels.size()) {
    throw Error(fmt::format("loss: {} logit rows but {} labels", batch, labels.size()));
  }
  if (dlogits != nullptr) dlogits->resize(batch, classes);
  LossSum sum;
  sum.count = batch;
  const float inv_batch = 1.0F / static_cast<float>(batch);
  for (Eigen::Index b = 0; b < batch; ++b) {
    const auto label = static_cast<Eigen::Index>(labels[static_cast<std::size_t>(b)]);
    if (label >= classes) throw Error(fmt::format("loss: label {} but only {} classes", label, classes));
    const float* z = logits.row(b).data();
    Eigen::Index arg_max = 0;
    for (Eigen::Index k = 1; k < classes; ++k) {
      if (z[k] > z[arg_max]) arg_max = k;
    }
    const float z_max = z[arg_max];
    double total = 0.0;
    for (Eigen::Index k = 0; k < classes; ++k) total += std::exp(static_cast<double>(z[k] - z_max));
    const double log_total = std::log(total);
    sum.loss += log_total - static_cast<double>(z[label] - z_max);
    sum.correct += arg_max == label ? 1 : 0;
    if (dlogits != nullptr) {
      float* d = dlogits->row(b).data();
      for (Eigen::Index k = 0; k < classes; ++k) {
        d[k] = static_cast<float>(std::exp(static_cast<double>(z[k] - z_max) - log_total)) * inv_batch;
      }
      d[label] -= inv_batch;
    }
  }
  return sum;
}

}  // namespace rnn
