#include "rnn/server/staleness.hpp"

#include <algorithm>
#include <array>
#include <cassert>
#include <limits>
#include <new>
#include <string>

#include "rnn/compress/message.hpp"
#include "rnn/core/error.hpp"

namespace rnn {

StalenessTracker::StalenessTracker(const ParameterLayout& layout, std::size_t window) : window_(window) {
  if (window == 0) throw Error("staleness: the window must be at least 1");
  if (window > max_window) {
    throw Error("staleness: window " + std::to_string(window) + " is above the limit of " + std::to_string(max_window) +
                " updates");
  }
  // Entry positions within one update are uint32 (τ ≤ W fits it by the limit above).
  if (layout.size() > std::numeric_limits<std::uint32_t>::max()) {
    throw Error("staleness: more than 2^32 - 1 parameters");
  }
  for (const Segment& s : layout.segments()) {
    offset_.push_back(s.offset);
    size_.push_back(s.size());
  }
  last_.resize(layout.size());
  dense_count_.assign(offset_.size(), 0);
  // The ring starts empty and grows in record(): a large window costs nothing until it is used.
}

StalenessTracker::Link StalenessTracker::previous(const Link& link) const {
  const Slot& slot = ring_[link.slot];
  // Walks stop at versions ≤ t0 ≥ now − W, so they only reach the last W updates, which the W
  // slots all still hold: an evicted slot is never read.
  assert(slot.version == link.version && "staleness: read an evicted update");
  return slot.previous[link.position];
}

void StalenessTracker::check_query(std::uint64_t base_version, std::size_t segment) const {
  if (segment >= offset_.size()) {
    throw Error("staleness: segment " + std::to_string(segment) + " out of range (" + std::to_string(offset_.size()) +
                " segments)");
  }
  if (base_version > now_) {
    throw Error("staleness: base version " + std::to_string(base_version) + " is newer than the server's version " +
                std::to_string(now_));
  }
  if (now_ - base_version > window_) {
    throw Error("staleness: base version " + std::to_string(base_version) + " is older than the window (version " +
                std::to_string(now_) + ", window " + std::to_string(window_) + ")");
  }
}

std::uint32_t StalenessTracker::dense_count(std::uint64_t base_version, std::size_t segment) const {
  if (base_version == now_) return 0;
  const Slot& after_base = ring_[(base_version + 1) % window_];
  assert(after_base.version == base_version + 1 && "staleness: read an evicted update");
  return static_cast<std::uint32_t>(dense_count_[segment] - after_base.dense_before[segment]);
}

// τ of local index local(j) into tau_out[j], for every j. A chain step is a load that depends
// on the previous one and usually misses the cache (the ring holds W pushes), so up to kLanes
// chains are walked round-robin to overlap their misses; a lane whose chain ends takes the
// next entry. Entries with an empty chain (the common case at small delays) never take a lane.
// Every step counts 1 in some τ, so the cost stays O(k + Σ τ). Measured on bench_staleness's
// cnn stream: 1.5x faster at delay 100 and 5x at delay 1000 than one chain at a time (8 lanes
// gave 4x, 32 no more than 16).
template <typename LocalIndex>
void StalenessTracker::count(std::uint64_t base_version, std::size_t segment, LocalIndex local,
                             std::span<std::uint32_t> tau_out) const {
  constexpr std::size_t kLanes = 16;
  const std::uint32_t dense = dense_count(base_version, segment);
  const std::size_t offset = offset_[segment];
  const std::size_t n = tau_out.size();
  std::array<std::size_t, kLanes> entry{};
  std::array<Link, kLanes> link{};  // invariant: link[l].version > base_version, so a step counts
  std::array<std::uint32_t, kLanes> tau{};
  std::size_t next = 0;
  const auto take = [&](std::size_t lane) {
    while (next < n) {
      const std::size_t j = next++;
      const Link first = last_[offset + local(j)];
      if (first.version <= base_version) {
        tau_out[j] = dense;
        continue;
      }
      entry[lane] = j;
      link[lane] = first;
      tau[lane] = dense;
      return true;
    }
    return false;
  };
  std::size_t lanes = 0;
  while (lanes < kLanes && take(lanes)) ++lanes;
  while (lanes > 0) {
    for (std::size_t l = 0; l < lanes;) {
      ++tau[l];
      link[l] = previous(link[l]);
      if (link[l].version > base_version) {
        ++l;
        continue;
      }
      tau_out[entry[l]] = tau[l];
      if (take(l)) {
        ++l;
      } else {  // nothing left to take: close the gap with the last lane
        --lanes;
        entry[l] = entry[lanes];
        link[l] = link[lanes];
        tau[l] = tau[lanes];
      }
    }
  }
}

void StalenessTracker::staleness(std::uint64_t base_version, std::size_t segment,
                                 std::span<const std::uint32_t> local_indices, std::span<std::uint32_t> tau_out) const {
  check_query(base_version, segment);
  check_indices(segment, local_indices);
  if (tau_out.size() != local_indices.size()) {
    throw Error("staleness: output has " + std::to_string(tau_out.size()) + " entries for " +
                std::to_string(local_indices.size()) + " indices");
  }
  const auto local = [&](std::size_t j) -> std::size_t { return local_indices[j]; };
  count(base_version, segment, local, tau_out);
}

void StalenessTracker::staleness_dense(std::uint64_t base_version, std::size_t segment,
                                       std::span<std::uint32_t> tau_out) const {
  check_query(base_version, segment);
  if (tau_out.size() != size_[segment]) {
    throw Error("staleness: output has " + std::to_string(tau_out.size()) + " entries for segment " +
                std::to_string(segment) + " of size " + std::to_string(size_[segment]));
  }
  const auto local = [](std::size_t j) { return j; };
  count(base_version, segment, local, tau_out);
}

void StalenessTracker::check_indices(std::size_t segment, std::span<const std::uint32_t> local_indices) const {
  if (const std::size_t j = first_invalid_index(local_indices, size_[segment]); j < local_indices.size()) {
    throw Error("staleness: local index " + std::to_string(local_indices[j]) + " at entry " + std::to_string(j) +
                " of segment " + std::to_string(segment) + " (size " + std::to_string(size_[segment]) +
                ") is out of range or not above the one before");
  }
}

std::size_t StalenessTracker::check_update(const Message& update) const {
  std::size_t sparse_entries = 0;
  for (std::size_t j = 0; j < update.blocks.size(); ++j) {
    const TensorBlock& block = update.blocks[j];
    if (block.segment >= offset_.size()) {
      throw Error("staleness: segment " + std::to_string(block.segment) + " out of range (" +
                  std::to_string(offset_.size()) + " segments)");
    }
    if (j > 0 && block.segment <= update.blocks[j - 1].segment) {
      throw Error("staleness: segment " + std::to_string(block.segment) + " after segment " +
                  std::to_string(update.blocks[j - 1].segment) +
                  " (an update names each segment at most once, in increasing order)");
    }
    if (!block.dense) {
      check_indices(block.segment, block.indices);
      sparse_entries += block.indices.size();
    }
  }
  return sparse_entries;
}

// The slot for the next update, with room for its entries. Everything that can allocate happens
// here, before record() changes any state, so running out of memory leaves the tracker as it was.
StalenessTracker::Slot& StalenessTracker::prepare_slot(std::uint32_t slot_index, std::size_t sparse_entries) {
  if (slot_index >= ring_.size()) {
    // Grows one slot per update until the ring is full; capacity doubles but never passes W.
    if (ring_.size() == ring_.capacity()) ring_.reserve(std::min(window_, std::max<std::size_t>(2, 2 * ring_.size())));
    ring_.resize(slot_index + 1);
  }
  Slot& slot = ring_[slot_index];
  slot.previous.reserve(sparse_entries);
  slot.dense_before.reserve(dense_count_.size());
  return slot;
}

void StalenessTracker::record(const Message& update) {
  const std::size_t sparse_entries = check_update(update);
  const std::uint64_t version = now_ + 1;
  const auto slot_index = static_cast<std::uint32_t>(version % window_);
  Slot* prepared = nullptr;
  try {
    prepared = &prepare_slot(slot_index, sparse_entries);
  } catch (const std::bad_alloc&) {
    throw Error("staleness: out of memory recording update " + std::to_string(version) + " (window " +
                std::to_string(window_) + ")");
  }
  // From here on nothing throws.
  Slot& slot = *prepared;
  slot.version = version;
  slot.previous.clear();  // keeps its capacity
  slot.dense_before.assign(dense_count_.begin(), dense_count_.end());
  for (const TensorBlock& block : update.blocks) {
    if (block.dense) {
      ++dense_count_[block.segment];
      continue;
    }
    const std::size_t offset = offset_[block.segment];
    for (const std::uint32_t local : block.indices) {
      Link& last = last_[offset + local];
      const auto position = static_cast<std::uint32_t>(slot.previous.size());
      slot.previous.push_back(last);
      last = Link{version, position, slot_index};
    }
  }
  now_ = version;
}

}  // namespace rnn
