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
// difference between now and just after t0. Updates live in a ring of W slots whose buffers are
// reused.
//
// Window: queries are answerable for delays now − t0 ≤ W. A chain walk only visits versions
// above t0 ≥ now − W, all still in the ring, so evicted updates are never read. W is at most
// max_window. The ring grows as updates are recorded, up to W slots: nothing is allocated up
// front for the window, memory follows the history actually kept (min(updates recorded, W)), and
// once the ring is full and its buffers have reached their size, recording does not allocate.
//
// Costs, with k pushed entries, n parameters and S segments:
//   query   O(k + Σ τ_i)        (staleness_dense: O(segment size + Σ τ_i))
//   record  O(k + S)            (O(1) per dense block)
//   memory  16 bytes · n  +  min(updates, W) · (16 bytes · sparse entries per update + 8 bytes · S + 72)
//
// Every failed call throws rnn::Error and leaves the tracker exactly as it was: record() checks
// the whole update before it changes anything. Not thread-safe: the server serialises its steps.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "rnn/compress/message.hpp"
#include "rnn/core/parameters.hpp"

namespace rnn {

class StalenessTracker {
 public:
  // The largest window a tracker accepts. Exact answers for delays up to W keep the last W
  // updates; beyond a million the history of any realistic push stream outgrows memory.
  static constexpr std::size_t max_window = 1'000'000;

  // window: the largest delay (now − base version) the tracker can answer, 1 … max_window.
  StalenessTracker(const ParameterLayout& layout, std::size_t window);

  [[nodiscard]] std::uint64_t version() const { return now_; }  // updates recorded so far
  [[nodiscard]] std::size_t window() const { return window_; }
  [[nodiscard]] std::size_t segment_count() const { return offset_.size(); }
  [[nodiscard]] bool can_answer(std::uint64_t base_version) const {
    return base_version <= now_ && now_ - base_version <= window_;
  }

  // τ of each listed local index of `segment` (sorted ascending, unique, < segment size) for a
  // worker whose base version is base_version; tau_out has one entry per index.
  void staleness(std::uint64_t base_version, std::size_t segment, std::span<const std::uint32_t> local_indices,
                 std::span<std::uint32_t> tau_out) const;
  // τ of every index of `segment`; tau_out has the segment's size.
  void staleness_dense(std::uint64_t base_version, std::size_t segment, std::span<std::uint32_t> tau_out) const;

  // Records one update (version() += 1): the segments its blocks name, densely or at their
  // indices; values are not read. Its blocks must name segments of the layout in strictly
  // increasing order, and a sparse block's indices must be strictly increasing below its
  // segment's size. Checks all of that first: a bad update throws rnn::Error and records nothing,
  // and so does running out of memory while the ring grows.
  void record(const Message& update);

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
  [[nodiscard]] std::size_t check_update(const Message& update) const;  // returns its sparse entry count
  Slot& prepare_slot(std::uint32_t slot_index, std::size_t sparse_entries);
  [[nodiscard]] Link previous(const Link& link) const;
  [[nodiscard]] std::uint32_t dense_count(std::uint64_t base_version, std::size_t segment) const;
  template <typename LocalIndex>
  void count(std::uint64_t base_version, std::size_t segment, LocalIndex local, std::span<std::uint32_t> tau_out) const;

  std::vector<std::size_t> offset_;  // per segment
  std::vector<std::size_t> size_;
  std::size_t window_;
  std::uint64_t now_ = 0;
  std::vector<Link> last_;                  // per flat index: its newest sparse touch
  std::vector<Slot> ring_;                  // up to W slots; version v lives in slot v mod W
  std::vector<std::uint64_t> dense_count_;  // per segment: dense touches so far
};

}  // namespace rnn
