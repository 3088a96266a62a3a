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

}  // namespace rnn
