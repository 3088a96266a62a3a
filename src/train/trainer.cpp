#include "rnn/train/trainer.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

#include "rnn/core/error.hpp"
#include "rnn/core/rng.hpp"
#include "rnn/train/progress.hpp"

namespace rnn {

Evaluation evaluate(const Model& model, std::span<const float> params, const Dataset& data, int batch, Workspace& ws) {
  LossSum total;
  const auto n = static_cast<Eigen::Index>(data.size());
  for (Eigen::Index start = 0; start < n; start += batch) {
    const Eigen::Index rows = std::min<Eigen::Index>(batch, n - start);
    const Matrix x = data.images.middleRows(start, rows);
    const Matrix& logits = model.forward(params, x, ws, false);
    const LossSum part = softmax_cross_entropy(
        logits, std::span(data.labels).subspan(static_cast<std::size_t>(start), static_cast<std::size_t>(rows)), nullptr);
    total.loss += part.loss;
    total.correct += part.correct;
    total.count += part.count;
  }
  if (total.count == 0) return {};
  return {total.loss / static_cast<double>(total.count),
          static_cast<double>(total.correct) / static_cast<double>(total.count)};
}

std::vector<EpochMetrics> train(const Model& model, std::vector<float>& params, Optimizer& optimizer,
                                const DatasetPair& data, const TrainOptions& options,
                                const std::function<void(const EpochMetrics&)>& on_epoch) {
  if (options.batch <= 0) throw Error(fmt::format("batch size must be positive, got {}", options.batch));
  if (options.epochs < 0) throw Error(fmt::format("epochs must be non-negative, got {}", options.epochs));
  const std::size_t n_train =
      options.train_limit > 0 ? std::min(options.train_limit, data.train.size()) : data.train.size();
  if (n_train == 0) throw Error("the training set is empty");

  std::vector<std::size_t> order(n_train);
  std::iota(order.begin(), order.end(), std::size_t{0});
  Rng shuffle_rng(options.seed, 0x5407F1E);
  Workspace ws = model.make_workspace();
  std::vector<float> grad(params.size(), 0.0F);
  Matrix x;
  std::vector<std::uint8_t> labels;
  std::vector<EpochMetrics> history;
  const auto batch = static_cast<std::size_t>(options.batch);
  const std::size_t batches = (n_train + batch - 1) / batch;

  for (int epoch = 1; epoch <= options.epochs; ++epoch) {
    shuffle_rng.shuffle(std::span(order));
    LossSum seen;
    ProgressBar bar(fmt::format("epoch {}/{}", epoch, options.epochs), batches, options.progress);
    const auto start = std::chrono::steady_clock::now();
    for (std::size_t b = 0; b < batches; ++b) {
      const std::size_t first = b * batch;
      const std::size_t count = std::min(batch, n_train - first);
      gather_batch(data.train, std::span(order).subspan(first, count), x, labels);
      const LossSum loss = model.loss_and_gradient(params, x, labels, grad, ws);
      if (!std::isfinite(loss.loss)) {
        throw Error(fmt::format("training diverged: loss is {} at epoch {}, batch {} (lower --lr?)", loss.loss, epoch,
                                b + 1));
      }
      optimizer.step(params, grad);
      project_non_negative(model.layout(), params);
      seen.loss += loss.loss;
      seen.correct += loss.correct;
      seen.count += loss.count;
      bar.update(b + 1, fmt::format("loss {:.4f} acc {:.4f}", seen.loss / static_cast<double>(seen.count),
                                    static_cast<double>(seen.correct) / static_cast<double>(seen.count)));
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    bar.finish();

    EpochMetrics m;
    m.epoch = epoch;
    m.learning_rate = optimizer.learning_rate();
    m.train_loss = seen.loss / static_cast<double>(seen.count);
    m.train_accuracy = static_cast<double>(seen.correct) / static_cast<double>(seen.count);
    const Evaluation test = evaluate(model, params, data.test, std::max(options.batch, 256), ws);
    m.test_loss = test.loss;
    m.test_accuracy = test.accuracy;
    m.seconds = seconds;
    m.samples_per_second = static_cast<double>(n_train) / seconds;
    history.push_back(m);
    if (on_epoch) on_epoch(m);
    optimizer.set_learning_rate(optimizer.learning_rate() * options.lr_decay);
  }
  return history;
}

}  // namespace rnn
