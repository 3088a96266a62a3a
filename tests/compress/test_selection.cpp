#include <doctest/doctest.h>

#include <vector>

#include "rnn/compress/selection.hpp"
#include "rnn/core/rng.hpp"

namespace rnn {

TEST_CASE("linear-time top-k equals the full-sort oracle, ties included") {
  Rng rng(3);
  std::vector<float> scratch;
  std::vector<std::uint32_t> fast;
  std::vector<std::uint32_t> slow;
  std::vector<std::pair<float, std::uint32_t>> order;
  for (int trial = 0; trial < 300; ++trial) {
    const std::size_t n = 1 + rng.below(400);
    std::vector<float> values(n);
    const bool ties = trial % 2 == 0;  // draw from a handful of magnitudes so ties are common
    for (auto& v : values) v = ties ? static_cast<float>(static_cast<int>(rng.below(7)) - 3) : rng.normal();
    const std::size_t k = rng.below(n + 3);  // 0 … n + 2
    select_top_k(values, k, scratch, fast);
    select_top_k_by_sort(values, k, order, slow);
    REQUIRE(fast == slow);
    CHECK(fast.size() == std::min(k, n));
  }
}

TEST_CASE("top-k keeps the largest magnitudes whatever their sign") {
  const std::vector<float> values{0.1F, -5.0F, 0.2F, 4.0F, -0.3F, 0.0F};
  std::vector<float> scratch;
  std::vector<std::uint32_t> indices;
  select_top_k(values, 2, scratch, indices);
  CHECK(indices == std::vector<std::uint32_t>{1, 3});
  select_top_k(values, 3, scratch, indices);
  CHECK(indices == std::vector<std::uint32_t>{1, 3, 4});
}

}  // namespace rnn
