#include "rnn/train/trainer.hpp"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <functional>
#include <numeric>
#include <string>

#include <fmt/format.h>

#include "rnn/core/cache.hpp"
#include "rnn/core/error.hpp"
#include "rnn/core/rng.hpp"
#include "rnn/train/progress.hpp"

namespace rnn {

namespace {

std::string describe(const Shape& s) {
  return fmt::format("{}x{}x{}", s.height, s.width, s.channels);
}

}  // namespace

void check_fits(const Model& model, const Dataset& data) {
  const std::string source = data.source.empty() ? std::string("in-memory dataset") : data.source.string();
  if (data.shape != model.input_shape()) {
    throw Error(fmt::format("{}: images are {} (rows x cols x channels) but model {} takes {}", source,
                            describe(data.shape), model.name(), describe(model.input_shape())));
  }
  if (data.images.rows() > 0 && data.images.cols() != data.shape.size()) {
    throw Error(fmt::format("{}: images of shape {} should hold {} values each, but hold {}", source,
                            describe(data.shape), data.shape.size(), data.images.cols()));
  }
  if (static_cast<std::size_t>(data.images.rows()) != data.labels.size()) {
    throw Error(fmt::format("{}: {} images but {} labels", source, data.images.rows(), data.labels.size()));
  }
  // A bad label would otherwise throw inside a parallel region, where an exception cannot be caught.
  const auto classes = static_cast<std::size_t>(model.output_shape().size());
  for (std::size_t i = 0; i < data.labels.size(); ++i) {
    if (data.labels[i] >= classes) {
      throw Error(fmt::format("{}: label {} of image {} is not a class of model {} ({} outputs)", source,
                              data.labels[i], i, model.name(), classes));
    }
  }
}

Evaluation evaluate(const Model& model, std::span<const float> params, const Dataset& data, int batch) {
  if (batch <= 0) throw Error(fmt::format("batch size must be positive, got {}", batch));
  check_fits(model, data);
  const auto n = static_cast<Eigen::Index>(data.size());
  const Eigen::Index batches = (n + batch - 1) / batch;
  const int threads =
      static_cast<int>(std::max<Eigen::Index>(1, std::min<Eigen::Index>(omp_get_max_threads(), batches)));
  std::vector<LossSum> parts(static_cast<std::size_t>(threads));
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    const int t = omp_get_thread_num();
    Workspace ws = model.make_workspace();
    Matrix x;
    LossSum& part = parts[static_cast<std::size_t>(t)];
    for (Eigen::Index b = t; b < batches; b += threads) {
      const Eigen::Index start = b * batch;
      const Eigen::Index rows = std::min<Eigen::Index>(batch, n - start);
      x = data.images.middleRows(start, rows);
      const Matrix& logits = model.forward(params, x, ws, false);
      part += softmax_cross_entropy(
          logits, std::span(data.labels).subspan(static_cast<std::size_t>(start), static_cast<std::size_t>(rows)),
          nullptr);
    }
  }
  LossSum total;
  for (const LossSum& part : parts) total += part;
  return {total.mean_loss(), total.accuracy()};
}

namespace {

// One thread's share of a mini-batch: its rows, its own workspace, and a gradient buffer for the
// layers that cannot split their gradient (empty if every layer can).
struct Shard {
  Workspace ws;
  Matrix x;
  std::vector<std::uint8_t> labels;
  std::vector<float> grad;
  LossSum loss;
};

// Hands each block of a split gradient to the optimizer while it is still in cache.
class UpdateBlock final : public GradientBlockSink {
 public:
  UpdateBlock(Optimizer& optimizer, std::span<float> params) : optimizer_(optimizer), params_(params) {}
  void operator()(std::size_t begin, std::size_t end, const float* gradient) override {
    optimizer_.update_block(params_, begin, std::span(gradient, end - begin));
  }

 private:
  Optimizer& optimizer_;
  std::span<float> params_;
};

// Updates each layer as soon as every thread has finished its backward pass through it, instead of
// writing the whole model's gradient out and reading it back in a separate optimizer pass. A layer
// that splits its gradient (Layer::split_gradient) is summed over all shards by parameter rows, each
// thread its own share, block by block into the optimizer: no gradient buffer per thread. Any other
// layer's gradient is read from the shards' buffers by the optimizer's work-shared update. Every
// thread of the team makes the same calls in the same order (a thread without rows through
// Model::report_gradient_ranges).
class UpdateLayerWhenReady final : public GradientReady {
 public:
  struct Step {
    const Model& model;
    Optimizer& optimizer;
    std::span<float> params;
    std::span<const GradientShare> shares;                 // per shard with rows: its gradient buffer
    std::span<const std::vector<GradientSource>> sources;  // per layer: one per shard with rows
    std::atomic<bool>& diverged;
  };
  UpdateLayerWhenReady(const Step& step, Workspace& own, std::size_t thread, std::size_t team)
      : step_(step),
        own_(own),
        thread_(thread),
        team_(team),
        sink_(step.optimizer, step.params),
        evict_([params = step.params](std::size_t first, std::size_t last) {
          evict_from_caches(params.data() + first, last - first);
        }) {}

  void loss_computed(const LossSum& loss) override {
    if (!std::isfinite(loss.loss)) step_.diverged.store(true, std::memory_order_relaxed);
  }
  [[nodiscard]] bool takes_split_gradients() const override { return true; }

  void operator()(std::size_t layer, std::size_t begin, std::size_t end) override {
    // After the barrier every thread's part of this layer's gradient is complete, no thread reads
    // its parameters again in this step (the layer contract), and every thread has computed its
    // loss, so all of them see the same `diverged` and skip the same updates. The shards' states
    // that a split gradient reads stay as they are until the step's region ends: backward through
    // the layers below writes only their own states.
#pragma omp barrier
    if (step_.diverged.load(std::memory_order_relaxed)) return;
    const Layer& l = *step_.model.layers()[layer];
    if (l.splits_gradient()) {
      // This thread has read the other parts' weights for the last time this step; evicting them
      // spares their owners a recall of this core's copies on every line they now write (see
      // rnn/core/cache.hpp: steps 41 % faster when the cores share no cache).
      for (std::size_t part = 0; part < team_; ++part) {
        if (part != thread_) l.split_ranges(part, team_, evict_);
      }
      l.split_gradient(step_.sources[layer], thread_, team_, own_.states[layer].get(), sink_);
    } else {
      step_.optimizer.update(step_.params, step_.shares, begin, end);
    }
  }

 private:
  const Step& step_;
  Workspace& own_;
  std::size_t thread_;
  std::size_t team_;
  UpdateBlock sink_;
  std::function<void(std::size_t, std::size_t)> evict_;  // built once per step, not per layer
};

}  // namespace

std::vector<EpochMetrics> train(const Model& model, std::vector<float>& params, Optimizer& optimizer,
                                const DatasetPair& data, const TrainOptions& options,
                                const std::function<void(const EpochMetrics&)>& on_epoch) {
  if (options.batch <= 0) throw Error(fmt::format("batch size must be positive, got {}", options.batch));
  if (options.epochs < 0) throw Error(fmt::format("epochs must be non-negative, got {}", options.epochs));
  if (!(std::isfinite(options.lr_decay) && options.lr_decay > 0.0F)) {
    throw Error(fmt::format("learning-rate decay must be a positive finite number, got {}", options.lr_decay));
  }
  check_fits(model, data.train);
  check_fits(model, data.test);
  const std::size_t n_train =
      options.train_limit > 0 ? std::min(options.train_limit, data.train.size()) : data.train.size();
  if (n_train == 0) throw Error("the training set is empty");

  std::vector<std::size_t> order(n_train);
  std::iota(order.begin(), order.end(), std::size_t{0});
  Rng shuffle_rng(options.seed, 0x5407F1E);
  const auto batch = static_cast<std::size_t>(options.batch);
  const std::size_t batches = (n_train + batch - 1) / batch;

  // Data parallelism over the batch: each thread runs forward/backward on a contiguous share of
  // the batch with single-threaded kernels (nested regions run serially), and each layer is updated
  // as soon as the backward pass completes it (UpdateLayerWhenReady). This keeps both cores busy
  // through the element-wise and sparse parts that a parallel GEMM alone leaves serial, and costs
  // no extra pass over memory.
  const int threads = std::max(1, std::min<int>(omp_get_max_threads(), options.batch));
  // Gradient buffers per shard only for layers that cannot split their gradient.
  const bool shard_buffers = !model.splits_every_gradient();
  std::vector<Shard> shards(static_cast<std::size_t>(threads));
  for (std::size_t t = 0; t < shards.size(); ++t) {
    Shard& s = shards[t];
    s.ws = model.make_workspace(t);
    if (shard_buffers) s.grad.assign(params.size(), 0.0F);
  }
  std::vector<GradientShare> shares(shards.size());
  // Every shard's part in each split gradient, weights aside: the pointers stay valid for the whole
  // run, so they are taken here, outside the parallel region (where nothing may throw).
  const std::size_t layer_count = model.layers().size();
  std::vector<std::vector<GradientSource>> shard_sources(layer_count);
  std::vector<std::vector<GradientSource>> sources(layer_count);  // per step: the shards with rows
  for (std::size_t layer = 0; layer < layer_count; ++layer) {
    if (!model.layers()[layer]->splits_gradient()) continue;
    // (A layer that splits its gradient but cannot name its parts' parameters throws here, not in
    // the parallel region.)
    model.layers()[layer]->split_ranges(0, 1, [](std::size_t, std::size_t) {});
    for (const Shard& s : shards) shard_sources[layer].push_back(model.gradient_source(layer, s.x, s.ws, 1.0F));
    sources[layer].reserve(shards.size());
  }
  optimizer.check_size(params, {});
  std::vector<EpochMetrics> history;

  for (int epoch = 1; epoch <= options.epochs; ++epoch) {
    shuffle_rng.shuffle(std::span(order));
    LossSum seen;
    ProgressBar bar(fmt::format("epoch {}/{}", epoch, options.epochs), batches, options.progress);
    const auto start = std::chrono::steady_clock::now();
    for (std::size_t b = 0; b < batches; ++b) {
      const std::size_t first = b * batch;
      const std::size_t count = std::min(batch, n_train - first);
      const std::span<const std::size_t> rows = std::span(order).subspan(first, count);
      // (With one thread no region is opened: a one-thread team would turn the kernels' own
      // parallel regions into nested ones.)
      std::atomic<bool> diverged{false};
      std::size_t used = 0;
      for (Shard& s : shards) s.loss = LossSum{};
#pragma omp parallel num_threads(threads) if (threads > 1)
      {
        // The team may be smaller than asked for (OMP_DYNAMIC, thread limits, a caller's own
        // parallel region): shards follow the team actually running.
        const auto team = static_cast<std::size_t>(omp_get_num_threads());
        const auto t = static_cast<std::size_t>(omp_get_thread_num());
#pragma omp single
        {
          // Each share's gradient is the mean over its rows; the batch mean weights them by size.
          for (auto& layer_sources : sources) layer_sources.clear();
          for (std::size_t u = 0; u < team; ++u) {
            const Share r = share_of(count, u, team);
            if (r.last > r.first) {
              const float weight = static_cast<float>(r.last - r.first) / static_cast<float>(count);
              shares[used++] = {shards[u].grad.data(), weight};
              for (std::size_t layer = 0; layer < layer_count; ++layer) {
                if (shard_sources[layer].empty()) continue;
                GradientSource source = shard_sources[layer][u];
                source.weight = weight;
                sources[layer].push_back(source);  // (within the capacity reserved above)
              }
            }
          }
          optimizer.begin_step();
        }  // (implicit barrier: every thread sees the shares, the sources and the step's constants)
        const Share mine = share_of(count, t, team);
        Shard& s = shards[t];
        const UpdateLayerWhenReady::Step step{model,   optimizer, params, std::span(shares).first(used),
                                              sources, diverged};
        UpdateLayerWhenReady update(step, s.ws, t, team);
        if (mine.last > mine.first) {
          gather_batch(data.train, rows.subspan(mine.first, mine.last - mine.first), s.x, s.labels);
          s.loss = model.loss_and_gradient(params, s.x, s.labels, s.grad, s.ws, &update);
        } else {
          model.report_gradient_ranges(update);  // no rows, but every update is work-shared
        }
      }
      LossSum loss;
      for (const Shard& s : shards) loss += s.loss;
      if (!std::isfinite(loss.loss)) {  // (then `diverged` was set, and no update was applied)
        throw Error(
            fmt::format("training diverged: loss is {} at epoch {}, batch {}; the learning rate may be too high",
                        loss.loss, epoch, b + 1));
      }
      seen += loss;
      if (bar.due(b + 1)) bar.update(b + 1, fmt::format("loss {:.4f} acc {:.4f}", seen.mean_loss(), seen.accuracy()));
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    bar.finish();

    EpochMetrics m;
    m.epoch = epoch;
    m.learning_rate = optimizer.learning_rate();
    m.train_loss = seen.mean_loss();
    m.train_accuracy = seen.accuracy();
    const Evaluation test = evaluate(model, params, data.test, std::max(options.batch, 256));
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
