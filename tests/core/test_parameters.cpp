#include <doctest/doctest.h>

#include <vector>

#include "rnn/core/error.hpp"
#include "rnn/core/parameters.hpp"

namespace rnn {

TEST_CASE("layout assigns contiguous segments in order") {
  ParameterLayout layout;
  CHECK(layout.add("a.w", 3, 4, false) == 0);
  CHECK(layout.add("a.b", 1, 4, false) == 1);
  CHECK(layout.add("r.w_plus", 2, 5, true) == 2);
  CHECK(layout.size() == 12 + 4 + 10);
  CHECK(layout.segment(1).offset == 12);
  CHECK(layout.segment(2).offset == 16);
  CHECK(layout.segment(2).non_negative);
  REQUIRE(layout.find("a.b") != nullptr);
  CHECK(layout.find("a.b")->size() == 4);
  CHECK(layout.find("missing") == nullptr);
  CHECK_THROWS_AS(layout.add("a.w", 1, 1, false), Error);
}

TEST_CASE("segment views alias the flat vector") {
  ParameterLayout layout;
  layout.add("x", 2, 3, false);
  layout.add("y", 2, 2, false);
  std::vector<float> p(layout.size(), 0.0F);
  view(std::span<float>(p), layout.segment(1))(1, 0) = 7.0F;
  CHECK(p[6 + 2] == 7.0F);
}

}  // namespace rnn
