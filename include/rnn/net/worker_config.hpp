#pragma once
// What the server tells a joining worker: everything that decides the pushes that worker computes
// (model, data split, batch, compressor, codec, gradient shaping, seed). A networked worker with
// this configuration computes exactly the rounds of the emulator's worker of the same id.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "rnn/async/worker.hpp"
#include "rnn/compress/codec.hpp"
#include "rnn/compress/registry.hpp"
#include "rnn/data/dataset.hpp"
#include "rnn/data/shards.hpp"
#include "rnn/models/model.hpp"

namespace rnn::net {

struct WorkerConfig {
  std::string model;
  std::uint64_t model_seed = 1;
  bool seed_init = false;
  std::uint64_t parameters = 0;     // the model's parameter count, checked on both sides
  std::uint64_t train_samples = 0;  // the server's training-set size, checked by the worker
  std::uint32_t workers = 1;        // shards of the training set
  int batch = 10;
  std::uint64_t seed = 1;
  ShardPlan shards;
  CompressorOptions compressor;  // seed and stream are set per worker
  CodecOptions codec;
  GradientShaping shaping;
};

// The model the configuration names, with its default options for the async trainer.
[[nodiscard]] std::unique_ptr<Model> make_config_model(const WorkerConfig& config);

// Worker `id` of the configuration over `train`, as the emulator builds it. Throws rnn::Error if
// the id is not below config.workers, or the model or training set differ from the server's.
[[nodiscard]] std::unique_ptr<Worker> make_config_worker(const WorkerConfig& config, std::uint32_t id,
                                                         const Model& model, const Dataset& train);

}  // namespace rnn::net
