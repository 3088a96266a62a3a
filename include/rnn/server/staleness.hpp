#pragma once
// Exact per-parameter staleness for the parameter server (AdaComp, Hardy et al. 2017). A
// worker that fetched the model at version t0 pushes an update; for each pushed flat index i
// the server needs τ_i = the number of updates with version in (t0, now] that touched i, and
// scales that entry's step by 1/max(1, τ_i). A query reads a fixed handful of words per entry,
// whatever τ and the delay.
//
// How. Every index i keeps a record: L_i, the version of its newest sparse touch; C_i, its
// sparse touches so far (mod 2^16); and, for the last K blocks of 64 versions (block b =
// versions 64b … 64b + 63, kept in slot b mod K), a bit mask of which of the block's versions
// touched i and base_b, the value of C_i when the block began. The touches in (t0, L_i] are
// then C_i − (base_b + the mask bits below x) for x = t0 + 1 and b = x / 64: three words, one
// popcount. A touch by update v fills the blocks after L_i's up to v's (base = C_i, mask 0; at
// most K of them, usually none or one), sets v's bit and counts it. This is exact while x's
// block is among i's last K, i.e. for delays up to the record's reach 64 · (K − 1) + 1. Dense
// blocks (a whole segment touched) are counted per segment instead, each update keeping a
// snapshot of those counts as they were before it; the dense part of τ_i is the difference
// between now and just after t0. Records are 32, 64, 128, 192, 256 or 320 bytes (reach 65, 257,
// 641, 1 089, 1 473, 1 921 updates), aligned so that no record straddles a cache line: a query
// reads one or two lines per entry, a touch writes those and, rarely, more.
//
// History. The last W updates (W = window) are kept in a ring, each as the sorted flat indices
// it touched sparsely (4 bytes per entry) and its dense-count snapshot. The ring serves the two
// cases the records cannot:
//   widening    reserve_delay(d) picks the smallest record whose reach is ≥ min(d, W,
//               max_record_reach) and rebuilds the records by replaying the ring. Records only
//               grow, so this happens a few times per run, as the delays rise.
//   old part    a query whose delay exceeds the reach R (beyond max_record_reach, or before
//               reserve_delay) counts the touches of versions above now − R in the records and
//               those of the older versions in (t0, now − R] by merging the query's sorted
//               indices with each of those updates' indices: exact, O(k + entries per update) per
//               older version.
// The ring grows as updates are recorded, up to W + 1 slots (one spare, so that the last record
// can be undone without losing the oldest update still needed): memory follows the history
// actually kept. Once the ring is full, its buffers have reached their size and the records
// have stopped growing, recording and querying do not allocate.
//
// The server counts and records a push in one pass over its entries (count_and_record), so each
// entry's cache lines are fetched once; if the push is then refused, undo_record() restores the
// tracker exactly: it keeps, per entry, L_i, C_i and the mask word and base field of the update's
// slot; the other blocks a touch fills lie beyond L_i again once it is undone, where nothing reads
// them, and what they held belonged to blocks no query reaches any more.
//
// Costs, with k queried entries, n parameters, S segments, d = now − t0, R the reach:
//   query   O(k)  +  O((d − R) · (k + entries per update)) if d > R
//   record  O(entries) + O(S); a touch fills up to K blocks when its index was idle that long
//   memory  (record bytes) · n  +  min(updates, W + 1) · (4 bytes · sparse entries + 8 bytes · S + 64)
// E.g. 100 workers round-robin (d = 99): 64-byte records, 27 MB for `cnn` (421 642 parameters);
// 1 000 workers (d = 999): 192 bytes, 81 MB for `cnn`, 257 MB for `rnl_deep` (1.34 M
// parameters); the widest, reach max_record_reach: 320 bytes. With large windows the history
// dominates: 1 % pushes of `cnn` (4 216 entries) with W = 10 000 keep 169 MB once W updates came.
//
// Every failed call throws rnn::Error and leaves the tracker exactly as it was: record() checks
// the whole update, and reserve_delay() and load_state() build what they replace, before they
// change anything. Queries are const and read only. Not thread-safe: the server serialises its
// steps.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "rnn/compress/message.hpp"
#include "rnn/core/byte_io.hpp"
#include "rnn/core/parameters.hpp"

namespace rnn {

class StalenessTracker {
 public:
  // The largest window a tracker accepts. Exact answers for delays up to W keep the last W
  // updates; beyond a million the history of any realistic push stream outgrows memory.
  static constexpr std::size_t max_window = 1'000'000;
  // The longest reach of a per-index record: delays up to this are answered from the records
  // alone. Covers 1 000 round-robin workers with room for slow ones.
  static constexpr std::size_t max_record_reach = 1921;
  static constexpr std::size_t min_record_reach = 65;

  // window: the largest delay (now − base version) the tracker can answer, 1 … max_window.
  // Starts with the smallest records (32 bytes per parameter).
  StalenessTracker(const ParameterLayout& layout, std::size_t window);

  [[nodiscard]] std::uint64_t version() const { return now_; }  // updates recorded so far
  [[nodiscard]] std::size_t window() const { return window_; }
  [[nodiscard]] std::size_t segment_count() const { return offset_.size(); }
  [[nodiscard]] std::size_t record_reach() const { return reach_; }  // R
  [[nodiscard]] bool can_answer(std::uint64_t base_version) const {
    return base_version <= now_ && now_ - base_version <= window_;
  }

  // Widens the records so that queries at delays up to min(delay, window, max_record_reach) are
  // answered from them alone. Does nothing if they already are; otherwise allocates the wider
  // records and replays the kept history into them (O(n · record size + history entries)).
  // Answers are the same either way. Throws rnn::Error if memory runs out, changing nothing.
  void reserve_delay(std::uint64_t delay);

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
  // The same, after writing τ of every entry of the update (in block order, a dense block's
  // entries in index order; tau_out has one entry per entry) for a worker at base_version, as
  // staleness() would have answered just before: one pass instead of a query and a record.
  // Checks the query too, first.
  void count_and_record(const Message& update, std::uint64_t base_version, std::span<std::uint32_t> tau_out);
  // Takes the last record back, leaving the tracker exactly as before it. Only right after a
  // record: throws rnn::Error if there is none to undo (nothing recorded, already undone, or the
  // tracker changed since: widened or loaded).
  void undo_record();

  // The tracker's state, appended to `out` (rnn::wire format): the layout's shape and the window
  // (checked on load), the version, the record reach, and the kept history, min(version, window)
  // updates of delta-coded indices. The records are not written: they follow from the history.
  void save_state(std::vector<std::uint8_t>& out) const;
  // Replaces the state with one save_state wrote, for a tracker of the same layout and window;
  // afterwards every query and record behaves exactly as on the tracker that was saved. Checks
  // everything it reads (shape, window, versions, counts, every update) and throws rnn::Error
  // naming the first problem, leaving the tracker unchanged (so it builds the new state beside
  // the old one: memory for two trackers while it loads).
  void load_state(wire::Reader& in);

 private:
  struct Slot {
    std::uint64_t version = 0;                // the update held here, for checking the window
    std::vector<std::uint32_t> touched;       // the flat indices it touched sparsely, ascending
    std::vector<std::uint64_t> dense_before;  // dense_count_ as it was before this update
  };

  // A tracker for segments of these offsets and sizes (contiguous, ascending), nothing recorded.
  StalenessTracker(std::vector<std::size_t> offset, std::vector<std::size_t> size, std::size_t window);

  void check_query(std::uint64_t base_version, std::size_t segment) const;
  void check_base(std::uint64_t base_version) const;
  void check_indices(std::size_t segment, std::span<const std::uint32_t> local_indices) const;
  [[nodiscard]] std::size_t check_update(const Message& update) const;  // returns its sparse entry count
  Slot& prepare(std::uint64_t version, std::size_t sparse_entries);
  [[nodiscard]] const Slot& slot_of(std::uint64_t version) const;
  [[nodiscard]] std::uint64_t history_length() const;  // updates kept: min(now, W)
  [[nodiscard]] std::uint32_t dense_count(std::uint64_t base_version, std::size_t segment) const;
  template <bool Count>
  void apply(const Message& update, std::uint64_t base_version, std::span<std::uint32_t> tau_out);
  template <typename LocalIndex>
  void count(std::uint64_t base_version, std::size_t segment, LocalIndex local, std::span<std::uint32_t> tau_out) const;
  template <typename LocalIndex>
  void count_older(std::uint64_t base_version, std::uint64_t mask_base, std::size_t segment, LocalIndex local,
                   std::span<std::uint32_t> tau_out) const;
  void rebuild_records(std::size_t shape);
  [[nodiscard]] std::uint64_t* records() { return storage_.get() + first_record_; }
  [[nodiscard]] const std::uint64_t* records() const { return storage_.get() + first_record_; }

  std::vector<std::size_t> offset_;  // per segment
  std::vector<std::size_t> size_;
  std::size_t window_;
  std::uint64_t now_ = 0;
  std::size_t shape_ = 0;  // index into the table of record shapes (staleness.cpp)
  std::size_t stride_;     // words per record
  std::size_t reach_;      // R
  std::size_t parameters_;
  // The records, stride_ words per flat index, from storage_[first_record_], the first word of a
  // cache line: each record then divides a line or fills whole ones.
  std::unique_ptr<std::uint64_t[]> storage_;
  std::size_t first_record_ = 0;
  std::vector<Slot> ring_;                  // up to W + 1 slots; version v lives in slot v mod (W + 1)
  std::vector<std::uint64_t> dense_count_;  // per segment: dense touches so far
  std::vector<std::uint64_t> undo_;         // per sparse entry of the last record: L_i, mask word, C_i and base
  bool undoable_ = false;
};

}  // namespace rnn
