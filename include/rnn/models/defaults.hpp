#pragma once
// The training settings each registered model is trained with unless a caller says otherwise,
// so that rnnl-train, the asynchronous runner and a study linking the library start from the
// same place. Measured on MNIST (README, "Training defaults, and why"):
//
//   rnl_deep, rnl_hybrid, cnn_rnl  Adam 3e-3, ×0.8 per epoch, batch 128, no dropout, logits = 5·q.
//       RNL gradients are about an order of magnitude smaller than a ReLU layer's, so the Adam
//       step is larger; 3e-3 ×0.8 beat 2e-3 ×0.7 and 4e-3 ×0.75 over 10 epochs. q = N/D mostly
//       lies in [0, 1], too narrow for a confident softmax: ×5 and ×10 measured alike.
//   gelenbe_ff                     as the RNL stacks, but logits = 10·q, the setting of its
//       measured 96.19 % after 10 epochs (its outputs are also probabilities q ∈ [0, 1]).
//   cnn                            Adam 1e-3, ×0.5 per epoch, batch 32, dropout 0.25 before the
//       output layer (the AdaComp seed CNN). The smaller batch (more steps) lifts it over 99 % in
//       3 epochs; with batch 64 or 128 it ended at 98.77–99.08 % over nine runs.
//   mlp, nuclei                    Adam 1e-3, ×0.7 per epoch, batch 128, no dropout.
//
// Plain SGD gets 0.1 for every model; it was not tuned per model (RNL stacks are reported to
// want a step near 1 with SGD).
#include <cstdint>
#include <string_view>

#include "rnn/models/registry.hpp"

namespace rnn {

struct TrainingDefaults {
  float learning_rate = 1e-3F;     // Adam and RMSprop step size
  float sgd_learning_rate = 0.1F;  // plain or momentum SGD step size
  float lr_decay = 0.7F;           // the learning rate is multiplied by this after every epoch
  int batch = 128;                 // mini-batch rows
  float dropout = 0.0F;            // ModelOptions::dropout
  float output_scale = 5.0F;       // ModelOptions::output_scale (models whose output is a rate q)
};

// The defaults of a model in model_names(); throws rnn::Error for any other name.
[[nodiscard]] TrainingDefaults training_defaults(std::string_view model);

// ModelOptions{} with the model's default dropout and output scale filled in.
[[nodiscard]] ModelOptions default_model_options(std::string_view model);

// What the asynchronous trainer (rnn/async/runner.hpp) starts from for a model: the settings of
// AdaComp's released experiment (100 workers, batch 10, c = 0.01) with a server learning rate and
// schedule measured in virtual time on MNIST (README, "Asynchronous training"). The authors'
// α = 0.1 diverges within a thousand updates here (cnn, adacomp, per-parameter staleness): 0.05,
// halved after 20 000 updates, reaches 98.7 % at 40 000. A plain step (dense ASGD, Comp-ASGD)
// applies every stale push at full weight and needs a smaller rate and clipped gradients.
//
// The models with RNN weights (rnl_deep, rnl_hybrid, cnn_rnl, gelenbe_ff) learn little under that
// recipe (rnl_deep: 39 % after 10 000 updates). Theirs, measured lever by lever in
// docs/adacomp-rnn.md: lazy Adam at the server (3e-3, halved every 20 000 updates) with AdaComp's
// 1/τ_i on the Adam step rather than on its input, and top-k by each entry's gradient relative to
// its running rms on the worker, which spreads the k entries over the tensor.
struct AsyncDefaults {
  float scaled_learning_rate = 0.05F;         // server SGD step with staleness scaling (global, per-parameter)
  float plain_learning_rate = 0.01F;          // server SGD step with the plain policy
  float adam_scaled_learning_rate = 1e-3F;    // server Adam step with staleness scaling
  float adam_plain_learning_rate = 1e-4F;     // server Adam step with the plain policy
  float lr_decay = 0.5F;                      // the server learning rate is multiplied by this …
  std::uint64_t lr_decay_every = 20000;       // … every this many updates
  float plain_clip_norm = 1.0F;               // workers' gradient l2 clipping with the plain policy (0: off)
  bool seed_init = false;                     // ModelOptions::seed_init: AdaComp's initialisation
  std::string_view server_optimizer = "sgd";  // the server's update rule: "sgd", "momentum" or "adam"
  bool scale_rule_step = false;               // with a rule: staleness scales its step, not its gradient
  std::string_view select_by = "magnitude";   // top-k score: "magnitude" or "normalised" (compress/topk.hpp)
  int batch = 10;
  std::uint64_t max_updates = 40000;  // the run's length
  double sample_seconds = 1e-3;       // compute per training sample of the reference device (one core)
};

// The asynchronous defaults of a model in model_names(); throws rnn::Error for any other name.
[[nodiscard]] AsyncDefaults async_defaults(std::string_view model);

}  // namespace rnn
