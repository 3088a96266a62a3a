#pragma once
// The synchronous training loop: seeded shuffling, mini-batches split across threads (each
// thread's share through single-threaded kernels), each layer updated by the optimizer as soon as
// every thread's backward pass has finished it, evaluation after every epoch. A layer that splits
// its gradient (Layer::split_gradient: RNL and dense layers) is summed over the shares by parameter
// rows, each thread its own rows, block by block straight into the optimizer, after evicting the
// other threads' rows from its caches (rnn/core/cache.hpp: their owners are about to write them);
// any other layer's shares are summed inside the optimizer's update. Either way the update keeps
// non-negative segments non-negative.
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "rnn/data/dataset.hpp"
#include "rnn/models/model.hpp"
#include "rnn/train/optimizer.hpp"

namespace rnn {

struct TrainOptions {
  int epochs = 10;
  int batch = 128;
  std::uint64_t seed = 1;
  float lr_decay = 1.0F;        // learning rate multiplied by this after every epoch
  std::size_t train_limit = 0;  // use only the first N training samples (0 = all)
  bool progress = true;         // progress bar on stderr (only drawn on a terminal)
};

struct Evaluation {
  double loss = 0.0;
  double accuracy = 0.0;
};

struct EpochMetrics {
  int epoch = 0;
  double learning_rate = 0.0;
  double train_loss = 0.0;  // mean over the epoch's batches, in training mode (as seen by SGD)
  double train_accuracy = 0.0;
  double test_loss = 0.0;
  double test_accuracy = 0.0;
  double seconds = 0.0;  // wall time of the epoch's training (evaluation excluded)
  double samples_per_second = 0.0;
};

// Throws rnn::Error, naming the data's source file and both shapes, unless `data` fits `model`:
// its per-image shape (rows x cols x channels) is the model's input shape (a 14x56 image has
// 784 pixels too, but a convolution would read it as 28x28), each row holds that many values,
// there is one label per row, and every label is a class of the model's output.
void check_fits(const Model& model, const Dataset& data);

// Loss and accuracy of `params` on `data`, in evaluation mode, in batches of `batch` spread over
// the OpenMP threads (each with its own workspace). Checks check_fits first.
Evaluation evaluate(const Model& model, std::span<const float> params, const Dataset& data, int batch);

// Trains in place; calls on_epoch after each epoch. Throws rnn::Error if the loss becomes
// NaN or infinite (naming the epoch and batch); the parameters are then those from before the
// failed step. Throws before training if either split fails check_fits, or an option is out of
// range (batch < 1, epochs < 0, lr_decay not a positive finite number).
std::vector<EpochMetrics> train(const Model& model, std::vector<float>& params, Optimizer& optimizer,
                                const DatasetPair& data, const TrainOptions& options,
                                const std::function<void(const EpochMetrics&)>& on_epoch = {});

}  // namespace rnn
