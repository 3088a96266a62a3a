#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "rnn/core/rng.hpp"

namespace rnn {

TEST_CASE("same seed and stream reproduce; different streams differ") {
  Rng a(42, 1);
  Rng b(42, 1);
  Rng c(42, 2);
  int same_as_c = 0;
  for (int i = 0; i < 100; ++i) {
    const auto va = a.next_u64();
    CHECK(va == b.next_u64());
    same_as_c += va == c.next_u64() ? 1 : 0;
  }
  CHECK(same_as_c == 0);
}

TEST_CASE("uniform, below and normal have the right moments") {
  Rng rng(7);
  const int n = 200000;
  double sum = 0.0;
  double sum_sq = 0.0;
  std::vector<int> buckets(10, 0);
  for (int i = 0; i < n; ++i) {
    const float u = rng.uniform();
    CHECK_FALSE((u < 0.0F || u >= 1.0F));
    const double z = rng.normal();
    sum += z;
    sum_sq += z * z;
    ++buckets[rng.below(10)];
  }
  CHECK(std::fabs(sum / n) < 0.01);
  CHECK(std::fabs(sum_sq / n - 1.0) < 0.02);
  for (const int count : buckets) CHECK(std::abs(count - n / 10) < n / 100);
  for (int i = 0; i < 1000; ++i) CHECK(std::fabs(rng.truncated_normal(0.1F)) <= 0.2F);
}

TEST_CASE("shuffle is a permutation and reproducible") {
  std::vector<int> a(1000);
  std::iota(a.begin(), a.end(), 0);
  std::vector<int> b = a;
  Rng r1(3);
  Rng r2(3);
  r1.shuffle(std::span(a));
  r2.shuffle(std::span(b));
  CHECK(a == b);
  CHECK_FALSE(std::is_sorted(a.begin(), a.end()));
  std::sort(a.begin(), a.end());
  for (int i = 0; i < 1000; ++i) CHECK(a[static_cast<std::size_t>(i)] == i);
}

}  // namespace rnn
