#pragma once
// Two runs' evaluation points are the same run: every recorded field (eval_record's, so a field
// added to EvalPoint is compared without touching the tests) but the wall clock.
#include <doctest/doctest.h>

#include <vector>

#include "rnn/async/runner.hpp"

namespace rnn::test {

inline void check_same_points(const std::vector<EvalPoint>& a, const std::vector<EvalPoint>& b) {
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    CAPTURE(i);
    const MetricsRecord ra = eval_record(a[i]);
    const MetricsRecord rb = eval_record(b[i]);
    const auto& fa = ra.fields();
    const auto& fb = rb.fields();
    REQUIRE(fa.size() == fb.size());
    for (std::size_t f = 0; f < fa.size(); ++f) {
      CAPTURE(fa[f].first);
      CHECK(fa[f].first == fb[f].first);
      if (fa[f].first != "wall_seconds") CHECK(fa[f].second == fb[f].second);
    }
  }
}

}  // namespace rnn::test
