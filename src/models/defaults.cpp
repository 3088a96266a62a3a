#include "rnn/models/defaults.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "rnn/core/error.hpp"

namespace rnn {

TrainingDefaults training_defaults(std::string_view model) {
  // The reasons for each value are in the header.
  TrainingDefaults d;
  if (model == "rnl_deep" || model == "rnl_hybrid" || model == "cnn_rnl") {
    d.learning_rate = 3e-3F;
    d.lr_decay = 0.8F;
  } else if (model == "gelenbe_ff") {
    d.learning_rate = 3e-3F;
    d.lr_decay = 0.8F;
    d.output_scale = 10.0F;
  } else if (model == "cnn") {
    d.lr_decay = 0.5F;
    d.batch = 32;
    d.dropout = 0.25F;
  } else if (model != "mlp" && model != "nuclei") {
    const auto& names = model_names();
    if (std::find(names.begin(), names.end(), model) == names.end()) {
      throw Error(fmt::format("unknown model '{}' (choose one of: {})", model, fmt::join(names, ", ")));
    }
    throw Error(fmt::format("model '{}' is registered but has no training defaults", model));
  }
  return d;
}

ModelOptions default_model_options(std::string_view model) {
  const TrainingDefaults d = training_defaults(model);
  ModelOptions options;
  options.dropout = d.dropout;
  options.output_scale = d.output_scale;
  return options;
}

}  // namespace rnn
