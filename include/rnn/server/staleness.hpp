#pragma once
// Exact per-parameter staleness for the parameter server (AdaComp, Hardy et al. 2017). A
// worker that fetched the model at version t0 pushes an update; for each pushed flat index i
// the server needs τ_i = the number of updates with version in (t0, now] that touched i, and
// scales that entry's step by 1/max(1, τ_i). Counting against a stored history of index sets
// would cost O(delay · k) per push; this tracker answers in time proportional to the answer.
//
// How: every sparse touch of index i links to the previous touch of i (its version and its
// position in that update's entry list), so τ_i is the length of i's chain above t0, walked
// from the newest touch. Dense blocks (a whole segment touched) are not linked per index —
// that would cost O(segment size) per update — but counted per segment, with each update
// keeping a snapshot of those counts as they were before it; the dense part of τ_i is the
// difference between now and just after t0. Updates live in a ring of W + 1 slots (one more
// than the window, so the open update never overwrites the oldest answerable one) whose
// buffers are reused: once warmed up, recording does not allocate.
//
// Window: queries are answerable for delays now − t0 ≤ W. A chain walk only visits versions
// above t0 ≥ now − W, all still in the ring, so evicted updates are never read.
//
// Costs, with k pushed entries, n parameters and S segments:
//   query   O(k + Σ τ_i)        (staleness_dense: O(segment size + Σ τ_i))
//   record  O(k + S)            (O(1) per dense block)
//   memory  16 bytes · n  +  (W + 1) · (16 bytes · sparse entries per update + 8 bytes · S)
//
// Recording one update: begin_update(); touch()/touch_dense() each segment at most once;
// end_update(). Queries may be interleaved with an open update (e.g. query a block, then
// touch it); they see only the updates already ended. Every failed call throws rnn::Error
// and leaves the tracker unchanged (an open update stays open: end it to go on). Not
// thread-safe: the server serialises its steps.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "rnn/core/parameters.hpp"

namespace rnn {

class StalenessTracker {
 public:
  // window: the largest delay (now − base version) the tracker can answer, ≥ 1.
  StalenessTracker(const ParameterLayout& layout, std::size_t window);

  [[nodiscard]] std::uint64_t version() const { return now_; }  // updates recorded so far
  [[nodiscard]] std::size_t window() const { return window_; }
  [[nodiscard]] std::size_t segment_count() const { return offset_.size(); }
  [[nodiscard]] bool updating() const { return open_; }  // between begin_update and end_update
  [[nodiscard]] bool can_answer(std::uint64_t base_version) const {
    return base_version <= now_ && now_ - base_version <= window_;
  }

  // τ of each listed local index of `segment` (sorted ascending, unique, < segment size) for a
  // worker whose base version is base_version; tau_out has one entry per index.
  void staleness(std::uint64_t base_version, std::size_t segment, std::span<const std::uint32_t> local_indices,
                 std::span<std::uint32_t> tau_out) const;
  // τ of every index of `segment`; tau_out has the segment's size.
  void staleness_dense(std::uint64_t base_version, std::size_t segment, std::span<std::uint32_t> tau_out) const;

  void begin_update();
  void touch(std::size_t segment, std::span<const std::uint32_t> local_indices);
  void touch_dense(std::size_t segment);
  void end_update();  // version() += 1

 private:
  // A touch: the update's version (0 = never touched), the entry's position in it, and the
  // update's ring slot (in what would be padding; saves a 64-bit division per chain step).
  struct Link {
    std::uint64_t version = 0;
    std::uint32_t position = 0;
    std::uint32_t slot = 0;
  };
  struct Slot {
    std::uint64_t version = 0;                // the update held here, for checking the window
    std::vector<Link> previous;               // per sparse entry, in order: the previous touch of its index
    std::vector<std::uint64_t> dense_before;  // dense_count_ as it was before this update
  };

  void check_query(std::uint64_t base_version, std::size_t segment) const;
  void check_indices(std::size_t segment, std::span<const std::uint32_t> local_indices) const;
  void check_touch(std::size_t segment) const;
  [[nodiscard]] Link previous(const Link& link) const;
  [[nodiscard]] std::uint32_t dense_count(std::uint64_t base_version, std::size_t segment) const;
  template <typename LocalIndex>
  void count(std::uint64_t base_version, std::size_t segment, LocalIndex local, std::span<std::uint32_t> tau_out) const;

  std::vector<std::size_t> offset_;  // per segment
  std::vector<std::size_t> size_;
  std::size_t window_;
  std::uint64_t now_ = 0;
  bool open_ = false;
  std::vector<Link> last_;                  // per flat index: its newest sparse touch
  std::vector<Slot> ring_;                  // W + 1 slots; version v lives in slot v mod (W + 1)
  std::vector<std::uint64_t> dense_count_;  // per segment: dense touches by ended updates
  std::vector<std::uint64_t> touched_in_;   // per segment: the last version that touched it
  std::vector<std::size_t> pending_dense_;  // segments touched densely by the open update
};

}  // namespace rnn
