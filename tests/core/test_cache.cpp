// evict_from_caches is a hint: whatever range it is given, the values stay as they were.
#include <doctest/doctest.h>

#include <numeric>
#include <vector>

#include "rnn/core/cache.hpp"

namespace rnn {

TEST_CASE("evicting a range from the caches leaves every value as it was") {
  std::vector<float> values(1000);
  std::iota(values.begin(), values.end(), 0.5F);
  const std::vector<float> before = values;
  evict_from_caches(values.data(), 0);        // nothing
  evict_from_caches(values.data() + 3, 1);    // inside one line, not at its start
  evict_from_caches(values.data() + 5, 517);  // unaligned start and end, many lines
  evict_from_caches(values.data(), values.size());
  CHECK(values == before);
  values[999] += 1.0F;  // still writable, and the write sticks
  evict_from_caches(values.data() + 990, 10);
  CHECK(values[999] == before[999] + 1.0F);
}

}  // namespace rnn
