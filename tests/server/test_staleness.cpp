#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <numeric>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "rnn/core/byte_io.hpp"
#include "rnn/core/error.hpp"
#include "rnn/core/parameters.hpp"
#include "rnn/core/rng.hpp"
#include "rnn/server/staleness.hpp"

namespace rnn {

namespace {

// The definition of τ: every flat index's list of the versions that touched it, counted.
class Oracle {
 public:
  explicit Oracle(std::size_t parameters) : touches_(parameters) {}

  [[nodiscard]] std::uint64_t version() const { return version_; }
  void record(const std::vector<char>& touched) {
    ++version_;
    for (std::size_t i = 0; i < touched.size(); ++i) {
      if (touched[i] != 0) touches_[i].push_back(version_);
    }
  }
  [[nodiscard]] std::uint32_t tau(std::uint64_t base_version, std::size_t flat) const {
    const std::vector<std::uint64_t>& t = touches_[flat];
    return static_cast<std::uint32_t>(t.end() - std::upper_bound(t.begin(), t.end(), base_version));
  }
  [[nodiscard]] std::vector<char> empty_update() const { return std::vector<char>(touches_.size(), 0); }

 private:
  std::uint64_t version_ = 0;
  std::vector<std::vector<std::uint64_t>> touches_;  // per flat index, ascending
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

// The flat indices `blocks` touch, for the oracle.
std::vector<char> touched_by(const Oracle& oracle, const ParameterLayout& layout, const std::vector<Block>& blocks) {
  std::vector<char> touched = oracle.empty_update();
  for (const Block& block : blocks) {
    const Segment& seg = layout.segment(block.segment);
    if (block.dense) {
      for (std::size_t j = 0; j < seg.size(); ++j) touched[seg.offset + j] = 1;
    } else {
      for (const std::uint32_t j : block.indices) touched[seg.offset + j] = 1;
    }
  }
  return touched;
}

// Records `blocks` in the tracker and returns the flat indices they touch, for the oracle.
std::vector<char> record(StalenessTracker& tracker, const Oracle& oracle, const ParameterLayout& layout,
                         const std::vector<Block>& blocks) {
  tracker.record(as_update(blocks));
  return touched_by(oracle, layout, blocks);
}

// The local indices a block's τ are asked for: its own, or every index of a dense block's segment.
std::vector<std::uint32_t> block_indices(const ParameterLayout& layout, const Block& block) {
  std::vector<std::uint32_t> indices = block.indices;
  if (block.dense) {
    indices.resize(layout.segment(block.segment).size());
    std::iota(indices.begin(), indices.end(), 0U);
  }
  return indices;
}

// The oracle's τ for every entry of `blocks`, in order (what count_and_record writes).
std::vector<std::uint32_t> expected_taus(const Oracle& oracle, const ParameterLayout& layout, std::uint64_t base,
                                         const std::vector<Block>& blocks) {
  std::vector<std::uint32_t> taus;
  for (const Block& block : blocks) {
    for (const std::uint32_t j : block_indices(layout, block)) {
      taus.push_back(oracle.tau(base, layout.segment(block.segment).offset + j));
    }
  }
  return taus;
}

// The tracker's τ for a block, by both the sparse query (a dense block asks for every index)
// and, for dense blocks, the dense query, against the oracle.
void check_block(const StalenessTracker& tracker, const Oracle& oracle, const ParameterLayout& layout,
                 std::uint64_t base, const Block& block) {
  const Segment& seg = layout.segment(block.segment);
  const std::vector<std::uint32_t> indices = block_indices(layout, block);
  std::vector<std::uint32_t> expected(indices.size());
  for (std::size_t j = 0; j < indices.size(); ++j) expected[j] = oracle.tau(base, seg.offset + indices[j]);
  std::vector<std::uint32_t> got(indices.size(), 99);
  tracker.staleness(base, block.segment, indices, got);
  INFO("version ", tracker.version(), ", base ", base, ", segment ", block.segment, ", dense ", block.dense, ", reach ",
       tracker.record_reach());
  CHECK(got == expected);
  if (block.dense) {
    std::fill(got.begin(), got.end(), 99);
    tracker.staleness_dense(base, block.segment, got);
    CHECK(got == expected);
  }
}

std::vector<std::uint8_t> saved(const StalenessTracker& tracker) {
  std::vector<std::uint8_t> bytes;
  tracker.save_state(bytes);
  return bytes;
}

void load(StalenessTracker& tracker, std::span<const std::uint8_t> bytes) {
  wire::Reader in(bytes, "state");
  tracker.load_state(in);
}

// How a stream drives the tracker.
struct Drive {
  bool reserve = false;  // reserve_delay(delay) before each push, as the server does
  bool fused = false;    // count_and_record instead of the queries, then record()
  bool undo = false;     // a quarter of the pushes are first counted and recorded, then undone
  bool reload = false;   // now and then the tracker is saved and replaced by a fresh one loading it
};

// A delay up to max_delay: 0, max_delay, around the tracker's reach, or uniform.
std::uint64_t pick_delay(Rng& rng, std::uint64_t max_delay, std::uint64_t reach) {
  switch (rng.below(6)) {
    case 0: return 0;
    case 1: return max_delay;
    case 2: return std::min(max_delay, reach - 1 + rng.below(3));  // reach − 1, reach, reach + 1
    default: return rng.below(max_delay + 1);
  }
}

// Random pushes with random delays in [0, min(W, now)]: τ of every pushed block against the
// oracle, then the push is recorded. A quarter of the pushes are first offered with a bad block
// at the end, which must leave no trace.
void run_stream(std::size_t window, std::uint64_t seed, int steps, Drive drive = {}) {
  const ParameterLayout layout = test_layout();
  auto tracker = std::make_unique<StalenessTracker>(layout, window);
  Oracle oracle(layout.size());
  Rng rng(seed, window);
  for (int step = 0; step < steps; ++step) {
    const std::uint64_t now = tracker->version();
    REQUIRE(now == oracle.version());
    const std::uint64_t delay = pick_delay(rng, std::min<std::uint64_t>(window, now), tracker->record_reach());
    const std::uint64_t base = now - delay;
    CHECK(tracker->can_answer(base));
    CHECK_FALSE(tracker->can_answer(now + 1));
    if (now > window) CHECK_FALSE(tracker->can_answer(now - window - 1));
    if (drive.reserve) tracker->reserve_delay(delay);

    const std::vector<Block> push = random_push(layout, rng);
    if (rng.below(4) == 0) {  // the same push with a bad block at its end: refused whole, no trace left
      std::vector<Block> bad = push;
      if (!bad.empty() && rng.below(2) == 0) {
        bad.push_back(bad.back());  // a segment twice
      } else {
        bad.push_back({layout.segments().size(), false, {0}});  // a segment outside the layout
      }
      CHECK_THROWS_AS(tracker->record(as_update(bad)), Error);
      REQUIRE(tracker->version() == now);
    }
    if (drive.undo && rng.below(4) == 0) {  // another push, counted and recorded, then taken back
      const std::vector<std::uint8_t> before = saved(*tracker);
      const std::vector<Block> other = random_push(layout, rng);
      std::vector<std::uint32_t> taus(expected_taus(oracle, layout, base, other).size());
      tracker->count_and_record(as_update(other), base, taus);
      CHECK(taus == expected_taus(oracle, layout, base, other));
      tracker->undo_record();
      REQUIRE(tracker->version() == now);
      CHECK(saved(*tracker) == before);
      CHECK_THROWS_AS(tracker->undo_record(), Error);
    }
    if (drive.fused) {
      const std::vector<std::uint32_t> expected = expected_taus(oracle, layout, base, push);
      std::vector<std::uint32_t> taus(expected.size(), 99);
      tracker->count_and_record(as_update(push), base, taus);
      INFO("version ", now, ", base ", base, ", reach ", tracker->record_reach());
      CHECK(taus == expected);
      oracle.record(touched_by(oracle, layout, push));
    } else {
      for (const Block& block : push) check_block(*tracker, oracle, layout, base, block);
      oracle.record(record(*tracker, oracle, layout, push));
    }
    if (drive.reload && rng.below(40) == 0) {
      const std::vector<std::uint8_t> bytes = saved(*tracker);
      auto loaded = std::make_unique<StalenessTracker>(layout, window);
      load(*loaded, bytes);
      CHECK(saved(*loaded) == bytes);
      tracker = std::move(loaded);
    }
  }
}

// A tracker state written field by field in the format staleness.hpp documents, so that the
// tests can build valid states by hand and spoil any one field.
struct StateText {
  struct RawBlock {
    std::uint64_t segment = 0;
    std::uint8_t dense = 0;
    std::vector<std::uint64_t> gaps;  // sparse: the first index, then the differences
  };
  std::string tag = "rnnl staleness tracker 1";
  std::uint64_t parameters = 0;
  std::vector<std::uint64_t> sizes;
  std::uint64_t window = 0;
  std::uint64_t version = 0;
  std::uint64_t reach = 65;
  std::uint64_t history = 0;
  std::vector<std::uint64_t> dense_base;
  std::vector<std::vector<RawBlock>> updates;
  std::optional<std::uint64_t> block_count;  // written instead of the first update's block count

  [[nodiscard]] std::vector<std::uint8_t> bytes() const {
    std::vector<std::uint8_t> out;
    wire::put_string(out, tag);
    wire::put_u64(out, parameters);
    wire::put_u64(out, sizes.size());
    for (const std::uint64_t size : sizes) wire::put_u64(out, size);
    for (const std::uint64_t v : {window, version, reach, history}) wire::put_u64(out, v);
    for (const std::uint64_t count : dense_base) wire::put_u64(out, count);
    for (std::size_t u = 0; u < updates.size(); ++u) {
      wire::put_varint(out, u == 0 && block_count ? *block_count : updates[u].size());
      for (const RawBlock& block : updates[u]) {
        wire::put_varint(out, block.segment);
        wire::put_u8(out, block.dense);
        if (block.dense == 1) continue;
        wire::put_varint(out, block.gaps.size());
        for (const std::uint64_t gap : block.gaps) wire::put_varint(out, gap);
      }
    }
    return out;
  }
};

// Updates 3 … 5 of a window-3 tracker of test_layout() (sizes 1, 20, 3, 128) whose update 2
// was segment 1, dense: v3 = a.w {0, 2} and b.w dense, v4 = a.b dense, v5 = a.w {2, 19}.
StateText valid_state() {
  StateText state;
  state.parameters = 152;
  state.sizes = {1, 20, 3, 128};
  state.window = 3;
  state.version = 5;
  state.history = 3;
  state.dense_base = {0, 1, 0, 0};
  state.updates = {{{1, 0, {0, 2}}, {3, 1, {}}}, {{0, 1, {}}}, {{1, 0, {2, 17}}}};
  return state;
}

// Loading `bytes` into a tracker holding some history must fail with rnn::Error and leave it
// exactly as it was.
void check_refused(std::span<const std::uint8_t> bytes) {
  const ParameterLayout layout = test_layout();
  StalenessTracker target(layout, 3);
  Rng rng(4);
  for (int step = 0; step < 7; ++step) target.record(as_update(random_push(layout, rng)));
  const std::vector<std::uint8_t> before = saved(target);
  CHECK_THROWS_AS(load(target, bytes), Error);
  CHECK(target.version() == 7);
  CHECK(saved(target) == before);
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

  TEST_CASE("staleness tracker matches the oracle however it is driven, across every record reach") {
    // Windows around the record reaches (65, 257): with reserve_delay the records widen as the
    // delays grow; without, delays past 65 count their older part from the history.
    const std::vector<std::pair<const char*, Drive>> drives{
        {"queries then record, no widening", {}},
        {"widened, queries then record", {.reserve = true}},
        {"widened, counted and recorded in one pass", {.reserve = true, .fused = true}},
        {"one pass, with undone pushes", {.reserve = true, .fused = true, .undo = true}},
        {"not widened, one pass, undone pushes", {.fused = true, .undo = true}},
        {"saved and reloaded now and then", {.reserve = true, .fused = true, .reload = true}},
    };
    for (const auto& [name, drive] : drives) {
      for (const std::size_t window : {1, 3, 64, 65, 66, 130, 300}) {
        for (std::uint64_t seed = 1; seed <= 2; ++seed) {
          const std::string drive_name = name;
          CAPTURE(drive_name);
          CAPTURE(window);
          CAPTURE(seed);
          run_stream(window, seed, static_cast<int>(std::max<std::size_t>(150, 2 * window + 50)), drive);
        }
      }
    }
  }

  TEST_CASE("staleness tracker matches the oracle for delays beyond the widest record") {
    const std::size_t window = StalenessTracker::max_record_reach + 200;
    run_stream(window, 7, static_cast<int>(window + 300), {.reserve = true, .fused = true, .undo = true});
  }

  TEST_CASE("reserve_delay picks the narrowest record that reaches the delay, within the window and the limit") {
    const ParameterLayout layout = test_layout();
    StalenessTracker tracker(layout, 5000);
    CHECK(tracker.record_reach() == StalenessTracker::min_record_reach);
    tracker.reserve_delay(0);
    tracker.reserve_delay(65);
    CHECK(tracker.record_reach() == 65);
    tracker.reserve_delay(66);
    CHECK(tracker.record_reach() == 257);
    tracker.reserve_delay(1000);
    CHECK(tracker.record_reach() == 1089);
    tracker.reserve_delay(10);  // never narrows
    CHECK(tracker.record_reach() == 1089);
    tracker.reserve_delay(1'000'000);
    CHECK(tracker.record_reach() == StalenessTracker::max_record_reach);

    StalenessTracker small(layout, 100);
    small.reserve_delay(5000);  // the window needs no more than 100
    CHECK(small.record_reach() == 257);
    StalenessTracker tiny(layout, 3);
    tiny.reserve_delay(5000);
    CHECK(tiny.record_reach() == StalenessTracker::min_record_reach);
  }

  TEST_CASE("widening the records does not change a single answer") {
    const ParameterLayout layout = test_layout();
    const std::size_t window = 1500;
    StalenessTracker tracker(layout, window);
    Rng rng(3);
    // Bursts of different densities, so that some indices are idle for long stretches.
    for (int step = 0; step < 1800; ++step) {
      std::vector<Block> push = random_push(layout, rng);
      if (step % 500 > 300) push.clear();
      tracker.record(as_update(push));
    }
    const auto all_answers = [&] {
      std::vector<std::uint32_t> answers;
      for (std::uint64_t delay = 0; delay <= window; delay += 7) {
        for (std::size_t s = 0; s < layout.segments().size(); ++s) {
          std::vector<std::uint32_t> tau(layout.segment(s).size());
          tracker.staleness_dense(tracker.version() - delay, s, tau);
          answers.insert(answers.end(), tau.begin(), tau.end());
        }
      }
      return answers;
    };
    const std::vector<std::uint32_t> narrow = all_answers();
    for (const std::uint64_t delay : {100, 700, 1100, 1500}) {
      tracker.reserve_delay(delay);
      CAPTURE(tracker.record_reach());
      CHECK(all_answers() == narrow);
    }
  }

  TEST_CASE("an index's touch count wraps at 2^16 without changing its staleness") {
    ParameterLayout layout;
    layout.add("w", 1, 2, false);
    StalenessTracker tracker(layout, 300);
    tracker.reserve_delay(300);
    const Message both = as_update({{0, false, {0, 1}}});
    const Message first = as_update({{0, false, {0}}});
    for (int step = 0; step < 70'000; ++step) tracker.record(step % 3 == 0 ? both : first);
    std::vector<std::uint32_t> tau(2);
    tracker.staleness(tracker.version() - 300, 0, std::vector<std::uint32_t>{0, 1}, tau);
    CHECK(tau == std::vector<std::uint32_t>{300, 100});
    tracker.staleness(tracker.version() - 1, 0, std::vector<std::uint32_t>{0, 1}, tau);
    CHECK(tau == std::vector<std::uint32_t>{1, (70'000 - 1) % 3 == 0 ? 1U : 0U});
  }

  TEST_CASE("count_and_record checks the query and the update first, and undo_record only right after a record") {
    const ParameterLayout layout = test_layout();
    StalenessTracker tracker(layout, 4);
    CHECK_THROWS_AS(tracker.undo_record(), Error);  // nothing recorded
    Rng rng(9);
    for (int step = 0; step < 10; ++step) tracker.record(as_update(random_push(layout, rng)));
    const std::vector<std::uint8_t> before = saved(tracker);
    const std::vector<Block> push{{1, false, {0, 3}}, {3, true, {}}};
    const std::size_t entries = 2 + layout.segment(3).size();
    std::vector<std::uint32_t> tau(entries);
    std::vector<std::uint32_t> short_tau(entries - 1);
    CHECK_THROWS_AS(tracker.count_and_record(as_update(push), 11, tau), Error);                 // from the future
    CHECK_THROWS_AS(tracker.count_and_record(as_update(push), 5, tau), Error);                  // older than the window
    CHECK_THROWS_AS(tracker.count_and_record(as_update(push), 8, short_tau), Error);            // output size
    CHECK_THROWS_AS(tracker.count_and_record(as_update({{1, false, {3, 0}}}), 8, tau), Error);  // bad update
    CHECK(saved(tracker) == before);

    tracker.count_and_record(as_update(push), 8, tau);
    CHECK(tracker.version() == 11);
    tracker.undo_record();
    CHECK(tracker.version() == 10);
    CHECK(saved(tracker) == before);
    CHECK_THROWS_AS(tracker.undo_record(), Error);  // already undone

    tracker.record(as_update(push));
    StalenessTracker wide(layout, 100);
    wide.record(as_update(push));
    wide.reserve_delay(100);  // rebuilt: the undo record is gone
    CHECK_THROWS_AS(wide.undo_record(), Error);
    StalenessTracker loaded(layout, 4);
    load(loaded, saved(tracker));
    CHECK_THROWS_AS(loaded.undo_record(), Error);
    tracker.undo_record();
    CHECK(saved(tracker) == before);
  }

  TEST_CASE("a tracker saved mid-stream and loaded into a fresh one answers every later query like the original") {
    const ParameterLayout layout = test_layout();
    for (const std::size_t window : {1, 5, 70, 400}) {
      CAPTURE(window);
      StalenessTracker original(layout, window);
      Oracle oracle(layout.size());
      Rng rng(21, window);
      const auto step = [&](StalenessTracker& tracker, const std::vector<Block>& push, std::uint64_t base) {
        for (const Block& block : push) check_block(tracker, oracle, layout, base, block);
      };
      for (int k = 0; k < 500; ++k) {
        const std::uint64_t delay = rng.below(std::min<std::uint64_t>(window, original.version()) + 1);
        original.reserve_delay(delay);
        oracle.record(record(original, oracle, layout, random_push(layout, rng)));
      }
      StalenessTracker copy(layout, window);
      load(copy, saved(original));
      CHECK(copy.version() == original.version());
      CHECK(copy.record_reach() == original.record_reach());
      for (int k = 0; k < 500; ++k) {
        const std::uint64_t delay = rng.below(std::min<std::uint64_t>(window, original.version()) + 1);
        const std::uint64_t base = original.version() - delay;
        const std::vector<Block> push = random_push(layout, rng);
        original.reserve_delay(delay);
        copy.reserve_delay(delay);
        step(original, push, base);
        step(copy, push, base);
        std::vector<std::uint32_t> a(expected_taus(oracle, layout, base, push).size());
        std::vector<std::uint32_t> b(a.size());
        original.count_and_record(as_update(push), base, a);
        copy.count_and_record(as_update(push), base, b);
        CHECK(a == b);
        oracle.record(touched_by(oracle, layout, push));
      }
      CHECK(saved(copy) == saved(original));
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

  TEST_CASE("a tracker's saved state is the documented format, and loads back to the same answers") {
    const ParameterLayout layout = test_layout();
    StalenessTracker tracker(layout, 3);
    tracker.record(Message{});
    tracker.record(as_update({{1, true, {}}}));
    tracker.record(as_update({{1, false, {0, 2}}, {3, true, {}}}));
    tracker.record(as_update({{0, true, {}}}));
    tracker.record(as_update({{1, false, {2, 19}}}));
    const std::vector<std::uint8_t> by_hand = valid_state().bytes();
    CHECK(saved(tracker) == by_hand);

    StalenessTracker loaded(layout, 3);
    load(loaded, by_hand);
    CHECK(loaded.version() == 5);
    std::vector<std::uint32_t> tau(3);
    loaded.staleness(2, 1, std::vector<std::uint32_t>{0, 2, 19}, tau);
    CHECK(tau == std::vector<std::uint32_t>{1, 2, 1});
    std::vector<std::uint32_t> one(1);
    loaded.staleness_dense(2, 0, one);
    CHECK(one[0] == 1);
    loaded.staleness_dense(3, 0, one);
    CHECK(one[0] == 1);
    loaded.staleness_dense(4, 0, one);
    CHECK(one[0] == 0);
    std::vector<std::uint32_t> b(128);
    loaded.staleness_dense(2, 3, b);
    CHECK(std::all_of(b.begin(), b.end(), [](std::uint32_t t) { return t == 1; }));
    CHECK_THROWS_AS(loaded.staleness_dense(1, 3, b), Error);  // older than the window, as on the original
  }

  TEST_CASE("a state that does not fit the tracker, or does not add up, is refused and changes nothing") {
    const auto spoilt = [](auto change) {
      StateText state = valid_state();
      change(state);
      return state.bytes();
    };
    using S = StateText;
    const std::vector<std::pair<const char*, std::vector<std::uint8_t>>> cases{
        {"tag", spoilt([](S& s) { s.tag = "rnnl staleness tracker 2"; })},
        {"parameter count", spoilt([](S& s) { s.parameters = 153; })},
        {"segment count", spoilt([](S& s) { s.sizes.pop_back(); })},
        {"segment size", spoilt([](S& s) { s.sizes[1] = 21; })},
        {"window", spoilt([](S& s) { s.window = 4; })},
        {"history longer than the version", spoilt([](S& s) { s.version = 2; })},
        {"history shorter than the window", spoilt([](S& s) { s.history = 2; })},
        {"reach of no record", spoilt([](S& s) { s.reach = 100; })},
        {"reach the window never needs", spoilt([](S& s) { s.reach = 257; })},
        {"version without a successor", spoilt([](S& s) { s.version = std::numeric_limits<std::uint64_t>::max(); })},
        {"more dense touches than updates", spoilt([](S& s) { s.dense_base[1] = 3; })},
        {"more blocks than segments", spoilt([](S& s) { s.block_count = 5; })},
        {"segment out of range", spoilt([](S& s) { s.updates[1][0].segment = 4; })},
        {"segments out of order", spoilt([](S& s) { std::swap(s.updates[0][0], s.updates[0][1]); })},
        {"segment twice", spoilt([](S& s) { s.updates[0][1] = s.updates[0][0]; })},
        {"dense flag", spoilt([](S& s) { s.updates[1][0].dense = 2; })},
        {"more indices than the segment has", spoilt([](S& s) { s.updates[2][0].gaps.assign(21, 1); })},
        {"empty sparse block", spoilt([](S& s) { s.updates[2][0].gaps.clear(); })},
        {"repeated index", spoilt([](S& s) {
           s.updates[0][0].gaps = {0, 2, 0};
         })},
        {"index beyond the segment", spoilt([](S& s) {
           s.updates[2][0].gaps = {2, 18};
         })},
        {"first index beyond the segment", spoilt([](S& s) { s.updates[2][0].gaps = {20}; })},
        {"a missing update", spoilt([](S& s) { s.updates.pop_back(); })},
    };
    for (const auto& [name, bytes] : cases) {
      const std::string problem = name;
      CAPTURE(problem);
      check_refused(bytes);
    }
    // Every prefix of a valid state is refused too.
    const std::vector<std::uint8_t> bytes = valid_state().bytes();
    for (std::size_t size = 0; size < bytes.size(); ++size) {
      CAPTURE(size);
      check_refused(std::span(bytes.data(), size));
    }
  }

  TEST_CASE("a state is refused by a tracker of another layout or window") {
    const std::vector<std::uint8_t> bytes = valid_state().bytes();
    ParameterLayout other;
    other.add("a.b", 1, 1, false);
    other.add("a.w", 4, 5, false);
    StalenessTracker wrong_layout(other, 3);
    CHECK_THROWS_AS(load(wrong_layout, bytes), Error);
    CHECK(wrong_layout.version() == 0);
    StalenessTracker wrong_window(test_layout(), 4);
    CHECK_THROWS_AS(load(wrong_window, bytes), Error);
    CHECK(wrong_window.version() == 0);
  }

  TEST_CASE("a state with random bytes flipped loads as some valid state or is refused unchanged") {
    const ParameterLayout layout = test_layout();
    StalenessTracker source(layout, 40);
    Rng rng(17);
    for (int step = 0; step < 100; ++step) {
      source.reserve_delay(rng.below(41));
      source.record(as_update(random_push(layout, rng)));
    }
    const std::vector<std::uint8_t> bytes = saved(source);
    int refused = 0;
    for (int trial = 0; trial < 300; ++trial) {
      std::vector<std::uint8_t> bad = bytes;
      for (std::uint64_t flips = 1 + rng.below(3); flips > 0; --flips) {
        bad[rng.below(bad.size())] ^= static_cast<std::uint8_t>(1 + rng.below(255));
      }
      StalenessTracker target(layout, 40);
      target.record(as_update(random_push(layout, rng)));
      const std::vector<std::uint8_t> before = saved(target);
      try {
        load(target, bad);
        CHECK(saved(target).size() > 0);  // loaded: a state it can go on from
        target.reserve_delay(40);
        target.record(as_update(random_push(layout, rng)));
      } catch (const Error&) {
        ++refused;
        CHECK(saved(target) == before);
      }
    }
    CHECK(refused > 0);
  }
}

}  // namespace rnn
