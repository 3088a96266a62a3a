#pragma once
// Models by name, the shapes every study refers to:
//
//   rnl_deep    784-512-512-10, every trainable layer a Random Neural Layer, logits = s·q
//   rnl_hybrid  RNL 784-512-512, dense 512->10 output
//   mlp         784-512-512-10, dense + ReLU
//   cnn         the AdaComp seed CNN (Hardy et al. 2017): per-image standardisation, then
//               conv3x3x32-pool-conv3x3x64-pool-dense128-dense10, ReLU, 421 642 parameters
//   cnn_rnl     the same convolutions on raw pixels (no standardisation layer), with both
//               dense layers replaced by RNLs (logits = s·q)
//   gelenbe_ff  Gelenbe's layered feedforward RNN 784-128-10 (logits = s·q)
//   nuclei      a dense-nuclei layer 784->512, then dense 512->10
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "rnn/layers/rnl.hpp"
#include "rnn/models/model.hpp"

namespace rnn {

struct ModelOptions {
  Shape input{28, 28, 1};
  int classes = 10;
  RnlOptions rnl;             // initialisation of RNL weights
  float output_scale = 5.0F;  // s: maps an RNL output layer's q ∈ [0, ∞) to logits
  float dropout = 0.0F;       // after each hidden layer, if > 0
  bool seed_init = false;     // dense/conv weights ~ truncated normal σ 0.1, biases 0.1 (AdaComp's code)
  std::uint64_t seed = 1;     // dropout mask streams
};

[[nodiscard]] const std::vector<std::string>& model_names();
// Throws rnn::Error for an unknown name or options out of range (a dropout rate outside [0, 1), a
// non-positive or non-finite output scale or RNL gain, a non-positive shape or class count).
// Each model's trained-with settings are in rnn/models/defaults.hpp.
[[nodiscard]] std::unique_ptr<Model> make_model(std::string_view name, const ModelOptions& options = {});

}  // namespace rnn
