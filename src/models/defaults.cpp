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

namespace {

// The models with RNN weights: Adam at the server with the staleness scale on its step, and top-k
// by each entry's normalised gradient (docs/adacomp-rnn.md). Plain SGD on RNL weights wants a step
// near 1 (their gradients are about ten times smaller than a ReLU layer's): 0.5 with staleness
// scaling, 0.1 without, if a caller asks for it.
void use_rnn_server(AsyncDefaults& d) {
  d.server_optimizer = "adam";
  d.scale_rule_step = true;
  d.select_by = "normalised";
  d.adam_scaled_learning_rate = 3e-3F;
  d.adam_plain_learning_rate = 1e-4F;
  d.scaled_learning_rate = 0.5F;
  d.plain_learning_rate = 0.1F;
  d.max_updates = 60000;
}

}  // namespace

AsyncDefaults async_defaults(std::string_view model) {
  (void)training_defaults(model);  // refuses unknown names
  AsyncDefaults d;
  // Single-core time per training sample at batch 10 (rnnl_bench_async's Gradient benchmark on the
  // CI machine type): the reference device's compute in virtual time.
  if (model == "cnn") {
    d.seed_init = true;  // the seed paper's truncated normal σ = 0.1, biases 0.1
    d.sample_seconds = 4e-4;
  } else if (model == "cnn_rnl") {
    use_rnn_server(d);
    d.sample_seconds = 4e-4;
  } else if (model == "rnl_deep" || model == "rnl_hybrid") {
    use_rnn_server(d);
    d.sample_seconds = 8e-5;
  } else if (model == "gelenbe_ff") {
    use_rnn_server(d);
    d.adam_scaled_learning_rate = 3e-4F;  // 90.2 % after 60 000 updates; 3e-3: 85.9 %, 1e-3: 89.6 %
    d.sample_seconds = 3e-5;
  } else {
    d.sample_seconds = model == "mlp" ? 5e-5 : 4e-5;
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
