#pragma once
// Shared fixtures for the compression tests: a small layout with every kind of tensor the
// compressors treat differently (convolution, bias of one entry, dense, non-negative RNN weights)
// and seeded random gradients.
#include <vector>

#include "rnn/core/parameters.hpp"
#include "rnn/core/rng.hpp"

namespace rnn::test {

inline ParameterLayout small_layout() {
  ParameterLayout layout;
  layout.add("conv1.weight", 8, 9, false);
  layout.add("conv1.bias", 1, 1, false);
  layout.add("dense1.weight", 40, 30, false);
  layout.add("rnl1.w_plus", 30, 12, true);
  layout.add("rnl1.w_minus", 30, 12, true);
  return layout;
}

inline std::vector<float> random_gradient(std::size_t n, std::uint64_t seed, float stddev = 0.01F) {
  Rng rng(seed, 99);
  std::vector<float> g(n);
  for (auto& v : g) v = stddev * rng.normal();
  return g;
}

}  // namespace rnn::test
