#include "rnn/layers/init.hpp"

#include <cmath>

namespace rnn {

void fill_weights(std::span<float> w, int fan_in, int fan_out, const AffineInit& init, Rng& rng) {
  switch (init.weights) {
    case WeightInit::he_uniform: {
      const float limit = std::sqrt(6.0F / static_cast<float>(fan_in));
      for (float& v : w) v = rng.uniform(-limit, limit);
      break;
    }
    case WeightInit::glorot_uniform: {
      const float limit = std::sqrt(6.0F / static_cast<float>(fan_in + fan_out));
      for (float& v : w) v = rng.uniform(-limit, limit);
      break;
    }
    case WeightInit::truncated_normal:
      for (float& v : w) v = rng.truncated_normal(init.stddev);
      break;
  }
}

}  // namespace rnn
