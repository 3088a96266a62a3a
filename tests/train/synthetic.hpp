#pragma once
// A small learnable stand-in for MNIST: each class is a random non-negative 28x28 prototype,
// samples are prototypes plus noise, clipped to [0, 1].
#include "rnn/core/rng.hpp"
#include "rnn/data/dataset.hpp"

namespace rnn::test {

inline Dataset synthetic_digits(int samples, std::uint64_t seed, float noise = 0.3F) {
  Rng proto_rng(1234);  // the same prototypes for every split
  Matrix prototypes(10, 784);
  for (Eigen::Index i = 0; i < prototypes.size(); ++i) prototypes.data()[i] = proto_rng.uniform() < 0.2F ? 1.0F : 0.0F;
  Rng rng(seed);
  Dataset d;
  d.shape = {28, 28, 1};
  d.images.resize(samples, 784);
  for (int s = 0; s < samples; ++s) {
    const auto label = static_cast<std::uint8_t>(rng.below(10));
    d.labels.push_back(label);
    for (int p = 0; p < 784; ++p) {
      d.images(s, p) = std::clamp(prototypes(label, p) + rng.uniform(-noise, noise), 0.0F, 1.0F);
    }
  }
  return d;
}

}  // namespace rnn::test
