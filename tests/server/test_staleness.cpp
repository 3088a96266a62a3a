#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <vector>

#include "rnn/core/error.hpp"
#include "rnn/core/parameters.hpp"
#include "rnn/core/rng.hpp"
#include "rnn/server/staleness.hpp"

namespace rnn {

namespace {

// Keeps every update's full set of touched flat indices and counts: the definition of τ.
class Oracle {
 public:
  explicit Oracle(std::size_t parameters) : parameters_(parameters) {}

  [[nodiscard]] std::uint64_t version() const { return history_.size(); }
  void record(std::vector<char> touched) { history_.push_back(std::move(touched)); }
  [[nodiscard]] std::uint32_t tau(std::uint64_t base_version, std::size_t flat) const {
    std::uint32_t count = 0;
    for (std::uint64_t v = base_version + 1; v <= version(); ++v) count += history_[v - 1][flat] != 0 ? 1U : 0U;
    return count;
  }
  [[nodiscard]] std::vector<char> empty_update() const { return std::vector<char>(parameters_, 0); }

 private:
  std::size_t parameters_;
  std::vector<std::vector<char>> history_;  // history_[v - 1][i]: update v touched flat index i
};

struct Block {
  std::size_t segment = 0;
  bool dense = false;
  std::vector<std::uint32_t> indices;  // sparse blocks only
};

ParameterLayout test_layout() {
  ParameterLayout layout;
  layout.add("a.b", 1, 1, false);
  layout.add("a.w", 4, 5, false);
  layout.add("b.b", 1, 3, false);
  layout.add("b.w", 8, 16, true);
  return layout;
}

// Each segment is left out, pushed dense, or pushed sparse with a random density (empty and
// full index sets included), in increasing segment order.
std::vector<Block> random_push(const ParameterLayout& layout, Rng& rng) {
  std::vector<Block> push;
  for (std::size_t s = 0; s < layout.segments().size(); ++s) {
    const float kind = rng.uniform();
    if (kind < 0.2F) continue;
    Block block{s, kind < 0.35F, {}};
    if (!block.dense) {
      const float mode = rng.uniform();
      const float density = mode < 0.1F ? 0.0F : mode < 0.2F ? 1.0F : rng.uniform();
      for (std::uint32_t j = 0; j < layout.segment(s).size(); ++j) {
        if (density >= 1.0F || rng.uniform() < density) block.indices.push_back(j);
      }
    }
    push.push_back(std::move(block));
  }
  return push;
}

Message as_update(const std::vector<Block>& blocks) {
  Message update;
  for (const Block& block : blocks) {
    TensorBlock& b = update.blocks.emplace_back();
    b.segment = static_cast<std::uint32_t>(block.segment);
    b.dense = block.dense;
    b.indices = block.indices;
  }
  return update;
}

// Records `blocks` in the tracker and returns the flat indices they touch, for the oracle.
std::vector<char> record(StalenessTracker& tracker, const Oracle& oracle, const ParameterLayout& layout,
                         const std::vector<Block>& blocks) {
  std::vector<char> touched = oracle.empty_update();
  for (const Block& block : blocks) {
    const Segment& seg = layout.segment(block.segment);
    if (block.dense) {
      for (std::size_t j = 0; j < seg.size(); ++j) touched[seg.offset + j] = 1;
    } else {
      for (const std::uint32_t j : block.indices) touched[seg.offset + j] = 1;
    }
  }
  tracker.record(as_update(blocks));
  return touched;
}

// The tracker's τ for a block, by both the sparse query (a dense block asks for every index)
// and, for dense blocks, the dense query, against the oracle.
void check_block(const StalenessTracker& tracker, const Oracle& oracle, const ParameterLayout& layout,
                 std::uint64_t base, const Block& block) {
  const Segment& seg = layout.segment(block.segment);
  std::vector<std::uint32_t> indices = block.indices;
  if (block.dense) {
    indices.resize(seg.size());
    std::iota(indices.begin(), indices.end(), 0U);
  }
  std::vector<std::uint32_t> expected(indices.size());
  for (std::size_t j = 0; j < indices.size(); ++j) expected[j] = oracle.tau(base, seg.offset + indices[j]);
  std::vector<std::uint32_t> got(indices.size(), 99);
  tracker.staleness(base, block.segment, indices, got);
  INFO("version ", tracker.version(), ", base ", base, ", segment ", block.segment, ", dense ", block.dense);
  CHECK(got == expected);
  if (block.dense) {
    std::fill(got.begin(), got.end(), 99);
    tracker.staleness_dense(base, block.segment, got);
    CHECK(got == expected);
  }
}

// Random pushes with random delays in [0, min(W, now)], exactly 0 and exactly W a quarter of
// the time each: τ of every pushed block, then the push is recorded. A quarter of the pushes
// are first offered with a bad block at the end, which must leave no trace.
void run_stream(std::size_t window, std::uint64_t seed, int steps) {
  const ParameterLayout layout = test_layout();
  StalenessTracker tracker(layout, window);
  Oracle oracle(layout.size());
  Rng rng(seed, window);
  for (int step = 0; step < steps; ++step) {
    const std::uint64_t now = tracker.version();
    REQUIRE(now == oracle.version());
    const std::uint64_t max_delay = std::min<std::uint64_t>(window, now);
    const std::uint64_t pick = rng.below(4);
    const std::uint64_t delay = pick == 0 ? 0 : pick == 1 ? max_delay : rng.below(max_delay + 1);
    const std::uint64_t base = now - delay;
    CHECK(tracker.can_answer(base));
    CHECK_FALSE(tracker.can_answer(now + 1));
    if (now > window) CHECK_FALSE(tracker.can_answer(now - window - 1));

    const std::vector<Block> push = random_push(layout, rng);
    if (rng.below(4) == 0) {  // the same push with a bad block at its end: refused whole, no trace left
      std::vector<Block> bad = push;
      if (!bad.empty() && rng.below(2) == 0) {
        bad.push_back(bad.back());  // a segment twice
      } else {
        bad.push_back({layout.segments().size(), false, {0}});  // a segment outside the layout
      }
      CHECK_THROWS_AS(tracker.record(as_update(bad)), Error);
      REQUIRE(tracker.version() == now);
    }
    for (const Block& block : push) check_block(tracker, oracle, layout, base, block);
    oracle.record(record(tracker, oracle, layout, push));
  }
}

}  // namespace

TEST_SUITE("staleness") {
  TEST_CASE("staleness tracker matches the brute-force oracle on random streams") {
    for (const std::size_t window : {1, 2, 3, 7, 32}) {
      for (std::uint64_t seed = 1; seed <= 3; ++seed) {
        CAPTURE(window);
        CAPTURE(seed);
        run_stream(window, seed, 150);
      }
    }
  }

  TEST_CASE("staleness tracker matches the oracle after the ring wrapped many times") {
    const ParameterLayout layout = test_layout();
    const std::size_t window = 3;
    StalenessTracker tracker(layout, window);
    Oracle oracle(layout.size());
    Rng rng(11);
    for (int step = 0; step < 2000; ++step) oracle.record(record(tracker, oracle, layout, random_push(layout, rng)));
    REQUIRE(tracker.version() == 2000);
    for (std::uint64_t delay = 0; delay <= window; ++delay) {
      for (std::size_t s = 0; s < layout.segments().size(); ++s) {
        check_block(tracker, oracle, layout, tracker.version() - delay, Block{s, true, {}});
      }
    }
  }

  TEST_CASE("staleness is zero at delay 0") {
    const ParameterLayout layout = test_layout();
    StalenessTracker tracker(layout, 4);
    Rng rng(5);
    for (int step = 0; step < 20; ++step) {
      tracker.record(as_update(random_push(layout, rng)));
      for (std::size_t s = 0; s < layout.segments().size(); ++s) {
        std::vector<std::uint32_t> tau(layout.segment(s).size(), 99);
        tracker.staleness_dense(tracker.version(), s, tau);
        CHECK(std::all_of(tau.begin(), tau.end(), [](std::uint32_t t) { return t == 0; }));
      }
    }
  }

  TEST_CASE("staleness of a hand-computed three-update history") {
    ParameterLayout layout;
    layout.add("a", 1, 5, false);
    layout.add("b", 1, 3, false);
    StalenessTracker tracker(layout, 3);
    CHECK(tracker.version() == 0);
    CHECK(tracker.window() == 3);
    // 1: a{0, 2}, b dense.  2: a{2, 3}.  3: a{0, 2, 4}, b{1}.
    tracker.record(as_update({{0, false, {0, 2}}, {1, true, {}}}));
    tracker.record(as_update({{0, false, {2, 3}}}));
    tracker.record(as_update({{0, false, {0, 2, 4}}, {1, false, {1}}}));
    CHECK(tracker.version() == 3);

    const auto a = [&](std::uint64_t base) {
      std::vector<std::uint32_t> tau(5);
      tracker.staleness_dense(base, 0, tau);
      return tau;
    };
    const auto b = [&](std::uint64_t base) {
      std::vector<std::uint32_t> tau(3);
      tracker.staleness_dense(base, 1, tau);
      return tau;
    };
    CHECK(a(0) == std::vector<std::uint32_t>{2, 0, 3, 1, 1});
    CHECK(a(1) == std::vector<std::uint32_t>{1, 0, 2, 1, 1});
    CHECK(a(2) == std::vector<std::uint32_t>{1, 0, 1, 0, 1});
    CHECK(a(3) == std::vector<std::uint32_t>{0, 0, 0, 0, 0});
    CHECK(b(0) == std::vector<std::uint32_t>{1, 2, 1});
    CHECK(b(1) == std::vector<std::uint32_t>{0, 1, 0});
    CHECK(b(3) == std::vector<std::uint32_t>{0, 0, 0});
    std::vector<std::uint32_t> tau(2);
    tracker.staleness(0, 0, std::vector<std::uint32_t>{2, 4}, tau);
    CHECK(tau == std::vector<std::uint32_t>{3, 1});
  }

  TEST_CASE("staleness tracker rejects bad input and stays unchanged") {
    ParameterLayout layout;
    layout.add("a", 1, 5, false);
    layout.add("b", 1, 3, false);
    CHECK_THROWS_AS(StalenessTracker(layout, 0), Error);
    CHECK_THROWS_AS(StalenessTracker(layout, StalenessTracker::max_window + 1), Error);
    CHECK_THROWS_AS(StalenessTracker(layout, 100'000'000), Error);
    CHECK(StalenessTracker(layout, StalenessTracker::max_window).window() == StalenessTracker::max_window);
    StalenessTracker tracker(layout, 2);
    using Idx = std::vector<std::uint32_t>;
    std::vector<std::uint32_t> tau(2);
    std::vector<std::uint32_t> tau5(5);

    // A bad block anywhere in an update records nothing, not even the blocks before it; the
    // tracker goes on recording.
    const std::vector<std::vector<Block>> bad{
        {{0, false, {1}}, {2, false, {0}}},     // segment out of range
        {{0, false, {1}}, {2, true, {}}},       // segment out of range, dense
        {{0, false, {1}}, {1, false, {0, 3}}},  // local index ≥ segment size
        {{0, false, {1, 3, 3}}},                // repeated index
        {{0, false, {3, 1}}},                   // descending indices
        {{0, false, {1}}, {0, false, {4}}},     // same segment twice
        {{0, false, {1}}, {0, true, {}}},       // same segment twice, dense
        {{1, true, {}}, {0, false, {1}}},       // decreasing segments
    };
    for (const auto& update : bad) {
      CHECK_THROWS_AS(tracker.record(as_update(update)), Error);
      CHECK(tracker.version() == 0);
    }
    tracker.record(as_update({{0, false, {1, 3}}, {1, true, {}}}));
    CHECK(tracker.version() == 1);
    tracker.staleness(0, 0, Idx{0, 1}, tau);
    CHECK(tau == Idx{0, 1});
    std::vector<std::uint32_t> tau3(3);
    tracker.staleness_dense(0, 1, tau3);
    CHECK(tau3 == Idx{1, 1, 1});
    for (int i = 0; i < 3; ++i) tracker.record(Message{});
    REQUIRE(tracker.version() == 4);

    // Queries: base version newer than now, older than the window, bad segment, bad indices, bad output size.
    CHECK_THROWS_AS(tracker.staleness(5, 0, Idx{1, 3}, tau), Error);
    CHECK_FALSE(tracker.can_answer(1));
    CHECK_THROWS_AS(tracker.staleness(1, 0, Idx{1, 3}, tau), Error);
    CHECK_THROWS_AS(tracker.staleness_dense(1, 0, tau5), Error);
    CHECK_THROWS_AS(tracker.staleness(2, 2, Idx{1, 3}, tau), Error);
    CHECK_THROWS_AS(tracker.staleness_dense(2, 2, tau5), Error);
    CHECK_THROWS_AS(tracker.staleness(2, 0, Idx{1, 5}, tau), Error);
    CHECK_THROWS_AS(tracker.staleness(2, 0, Idx{3, 1}, tau), Error);
    CHECK_THROWS_AS(tracker.staleness(2, 0, Idx{1, 3}, tau5), Error);
    CHECK_THROWS_AS(tracker.staleness_dense(2, 0, tau), Error);
    tracker.staleness(2, 0, Idx{1, 3}, tau);
    CHECK(tau == Idx{0, 0});
  }
}

}  // namespace rnn
