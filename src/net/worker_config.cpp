#include "rnn/net/worker_config.hpp"

#include <fmt/format.h>

#include "rnn/core/error.hpp"
#include "rnn/models/defaults.hpp"
#include "rnn/models/registry.hpp"

namespace rnn::net {

std::unique_ptr<Model> make_config_model(const WorkerConfig& config) {
  ModelOptions options = default_model_options(config.model);
  options.seed = config.model_seed;
  options.seed_init = config.seed_init;
  auto model = make_model(config.model, options);
  if (model->parameter_count() != config.parameters)
    throw Error(fmt::format("model {} has {} parameters here, {} at the server (different rnnl versions?)",
                            config.model, model->parameter_count(), config.parameters));
  return model;
}

std::unique_ptr<Worker> make_config_worker(const WorkerConfig& config, std::uint32_t id, const Model& model,
                                           const Dataset& train) {
  if (id >= config.workers)
    throw Error(fmt::format("worker id {} is not below the run's {} workers", id, config.workers));
  if (train.size() != config.train_samples)
    throw Error(
        fmt::format("the training set has {} samples here, {} at the server (another dataset, or "
                    "--train-limit?)",
                    train.size(), config.train_samples));
  auto shards = make_shards(train.labels, train.classes, config.workers, config.shards, config.seed);
  CompressorOptions c = config.compressor;
  c.seed = config.seed;
  c.stream = id;
  auto encoder = std::make_unique<PushEncoder>(model.layout(), make_compressor(c, model.layout()), config.codec);
  return std::make_unique<Worker>(id, std::move(shards[id]), std::move(encoder), config.seed);
}

}  // namespace rnn::net
