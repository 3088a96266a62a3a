#pragma once
// Weight initialisers shared by the affine layers (Dense, Conv2D).
#include <span>

#include "rnn/core/rng.hpp"

namespace rnn {

enum class WeightInit {
  he_uniform,        // U[−√(6/fan_in), √(6/fan_in)]            (ReLU networks)
  glorot_uniform,    // U[−√(6/(fan_in+fan_out)), +…]           (sigmoid/tanh/linear)
  truncated_normal,  // N(0, σ²) redrawn beyond 2σ               (the AdaComp seed CNN, σ = 0.1)
};

struct AffineInit {
  WeightInit weights = WeightInit::he_uniform;
  float stddev = 0.1F;  // for truncated_normal
  float bias = 0.0F;    // every bias starts at this value
};

void fill_weights(std::span<float> w, int fan_in, int fan_out, const AffineInit& init, Rng& rng);

}  // namespace rnn
