#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "rnn/core/finite.hpp"

TEST_CASE("all_finite: false for a NaN or an infinity anywhere, true for the largest and smallest floats") {
  std::vector<float> v(1000, 1.0F);
  CHECK(rnn::all_finite(v));
  CHECK(rnn::all_finite(std::vector<float>{}));
  v[0] = std::numeric_limits<float>::max();
  v[1] = -std::numeric_limits<float>::max();
  v[2] = std::numeric_limits<float>::denorm_min();
  v[3] = -0.0F;
  CHECK(rnn::all_finite(v));
  for (const float bad : {std::numeric_limits<float>::quiet_NaN(), -std::numeric_limits<float>::quiet_NaN(),
                          std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity()}) {
    for (const std::size_t at : {std::size_t{0}, std::size_t{7}, std::size_t{999}}) {
      std::vector<float> w = v;
      w[at] = bad;
      CHECK_FALSE(rnn::all_finite(w));
    }
  }
}
