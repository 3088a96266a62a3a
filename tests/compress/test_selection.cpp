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

TEST_CASE("the sampled fast path on large tensors equals the oracle, including when the sample misleads it") {
  const std::size_t n = 50000;  // large enough for the sampled path (stride n / 4096 = 12)
  Rng rng(8);
  std::vector<float> scratch;
  std::vector<std::uint32_t> fast;
  std::vector<std::uint32_t> slow;
  std::vector<std::pair<float, std::uint32_t>> order;
  auto agree = [&](const std::vector<float>& values, std::size_t k) {
    select_top_k(values, k, scratch, fast);
    select_top_k_by_sort(values, k, order, slow);
    REQUIRE(fast == slow);
  };
  std::vector<float> values(n);
  for (auto& v : values) v = rng.normal();
  for (const std::size_t k : {1, 50, 500, 3000}) agree(values, k);
  for (auto& v : values) v = static_cast<float>(static_cast<int>(rng.below(5)) - 2);  // ties everywhere
  agree(values, 500);
  // Non-zeros only off the sample's stride: the sample sees zeros, and fewer than k pass.
  std::fill(values.begin(), values.end(), 0.0F);
  for (std::size_t i = 1; i < n; i += 97) values[i] = rng.normal();
  agree(values, 2000);
  agree(values, 100);
  // Large values only on the stride: the cut is too high, fewer than k pass, the fallback runs.
  for (std::size_t i = 0; i < n; ++i) values[i] = i % 12 == 0 ? 100.0F + rng.uniform() : rng.uniform();
  agree(values, 3000);
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
