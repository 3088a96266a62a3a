#include "rnn/server/staleness.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cassert>
#include <limits>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "rnn/compress/message.hpp"
#include "rnn/core/error.hpp"

namespace rnn {

namespace {

// The shapes of a record: `words` 64-bit words, the first holding L_i, then 16-bit fields (C_i,
// then base_b per slot) four to a word, then one mask word per slot. Each size divides a 64-byte
// cache line or is a whole number of them, so that with the array aligned no record straddles a
// line; the slots are as many as fit.
struct RecordShape {
  std::size_t words;
  std::size_t slots;  // K
  std::size_t mask_offset;
  std::uint64_t reach;  // 64 · (K − 1) + 1

  constexpr RecordShape(std::size_t record_words, std::size_t slot_count)
      : words(record_words),
        slots(slot_count),
        mask_offset(1 + (slot_count + 1 + 3) / 4),
        reach(64 * (slot_count - 1) + 1) {}
};
constexpr std::array<RecordShape, 6> shapes{RecordShape{4, 2},   RecordShape{8, 5},   RecordShape{16, 11},
                                            RecordShape{24, 18}, RecordShape{32, 24}, RecordShape{40, 31}};
constexpr bool shapes_fit() {
  for (const RecordShape& shape : shapes) {
    if (shape.mask_offset + shape.slots > shape.words || (shape.words < 8 ? 8 % shape.words : shape.words % 8) != 0) {
      return false;
    }
  }
  return true;
}
static_assert(shapes_fit());
static_assert(shapes.front().reach == StalenessTracker::min_record_reach);
static_assert(shapes.back().reach == StalenessTracker::max_record_reach);

// The narrowest shape that reaches `delay` (the widest if none does).
std::size_t shape_for(std::uint64_t delay) {
  for (std::size_t k = 0; k < shapes.size(); ++k) {
    if (shapes[k].reach >= delay) return k;
  }
  return shapes.size() - 1;
}

// 16-bit field f of a record: C_i is field 0, base_b of slot k field 1 + k.
struct Field {
  std::size_t word;
  unsigned shift;
  constexpr explicit Field(std::size_t f) : word(1 + f / 4), shift(static_cast<unsigned>(16 * (f % 4))) {}
  [[nodiscard]] std::uint64_t get(const std::uint64_t* record) const { return (record[word] >> shift) & 0xFFFFU; }
  void set(std::uint64_t* record, std::uint64_t value) const {
    record[word] = (record[word] & ~(std::uint64_t{0xFFFF} << shift)) | ((value & 0xFFFFU) << shift);
  }
};
constexpr Field touches_field(0);

// Where version x falls in every record of a shape: its block's slot, base field and mask word,
// and the mask bits of the versions before x in its block.
struct Cut {
  Field base;
  std::size_t mask_word;
  std::uint64_t before;
  Cut(std::uint64_t x, const RecordShape& shape)
      : base(1 + x / 64 % shape.slots),
        mask_word(shape.mask_offset + x / 64 % shape.slots),
        before((std::uint64_t{1} << (x % 64)) - 1) {}
};

// The sparse touches of versions in (mask_base, L_i] of the index with this record, for
// cut = Cut(mask_base + 1): C_i minus the touches before mask_base + 1. An index not touched
// since mask_base computes a value anyway and drops it: no branch to mispredict.
std::uint32_t count_recent(const std::uint64_t* record, std::uint64_t mask_base, const Cut& cut) {
  const std::uint64_t before =
      cut.base.get(record) + static_cast<std::uint64_t>(std::popcount(record[cut.mask_word] & cut.before));
  const auto touches = static_cast<std::uint32_t>((touches_field.get(record) - before) & 0xFFFFU);
  return record[0] > mask_base ? touches : 0;
}

// Where update `version` lands in every record of a shape.
struct Position {
  std::uint64_t block;
  std::size_t slot;
  std::size_t mask_word;
  std::uint64_t bit;
  Field base;
  Position(std::uint64_t version, const RecordShape& shape)
      : block(version / 64),
        slot(block % shape.slots),
        mask_word(shape.mask_offset + slot),
        bit(std::uint64_t{1} << (version % 64)),
        base(1 + slot) {}
};

// Update `version` (at `at`) touches the index with this record: the blocks after L_i's up to
// the version's begin with the index's count so far and no touches (at most K of them: older ones
// are out of reach), then the version is set and counted.
void touch(std::uint64_t* record, std::uint64_t version, const Position& at, const RecordShape& shape) {
  const std::uint64_t count = touches_field.get(record);
  const std::uint64_t idle_blocks = at.block - record[0] / 64;
  if (idle_blocks >= shape.slots) {
    // Idle for all K blocks or more (the common case for a rarely chosen index): the record is
    // written afresh, whole words only, none read back (every base = the count so far).
    const std::uint64_t every_field = count * 0x0001'0001'0001'0001U;
    record[1] = (every_field & ~std::uint64_t{0xFFFF}) | ((count + 1) & 0xFFFFU);
    for (std::size_t w = 2; w < shape.mask_offset; ++w) record[w] = every_field;
    for (std::size_t w = shape.mask_offset; w < shape.mask_offset + shape.slots; ++w) record[w] = 0;
    record[at.mask_word] = at.bit;
    record[0] = version;
    return;
  }
  std::size_t slot = at.slot;
  for (std::uint64_t k = 0; k < idle_blocks; ++k) {
    Field(1 + slot).set(record, count);
    record[shape.mask_offset + slot] = 0;
    slot = slot == 0 ? shape.slots - 1 : slot - 1;
  }
  record[at.mask_word] |= at.bit;
  touches_field.set(record, count + 1);
  record[0] = version;
}

// Records are visited in index order but land on scattered cache lines: fetching the ones a few
// entries ahead lets their misses overlap. A query reads L_i and C_i, one base field and one mask
// word, the same ones in every record; a touch writes L_i, C_i and one mask word.
constexpr std::size_t prefetch_distance = 16;

void prefetch_words(const std::uint64_t* record, std::size_t a, std::size_t b, std::size_t c) {
  __builtin_prefetch(record);
  __builtin_prefetch(record + a);
  __builtin_prefetch(record + b);
  __builtin_prefetch(record + c);
}

// `words` zeroed words in `storage` from storage[first], the start of a cache line.
void allocate_records(std::unique_ptr<std::uint64_t[]>& storage, std::size_t& first, std::size_t words) {
  constexpr std::size_t line_words = 64 / sizeof(std::uint64_t);
  storage = std::make_unique<std::uint64_t[]>(words + line_words - 1);  // zeroed
  const auto misaligned = reinterpret_cast<std::uintptr_t>(storage.get()) % 64 / sizeof(std::uint64_t);
  first = (line_words - misaligned) % line_words;
}

// How a query names its indices: a sorted list, or the whole segment.
struct ListedIndices {
  std::span<const std::uint32_t> indices;
  std::size_t operator()(std::size_t j) const { return indices[j]; }
};
struct AllIndices {
  std::size_t operator()(std::size_t j) const { return j; }
};

constexpr std::string_view state_tag = "rnnl staleness tracker 1";

}  // namespace

StalenessTracker::StalenessTracker(const ParameterLayout& layout, std::size_t window)
    : StalenessTracker(
          [&] {
            std::vector<std::size_t> offset;
            for (const Segment& s : layout.segments()) offset.push_back(s.offset);
            return offset;
          }(),
          [&] {
            std::vector<std::size_t> size;
            for (const Segment& s : layout.segments()) size.push_back(s.size());
            return size;
          }(),
          window) {}

StalenessTracker::StalenessTracker(std::vector<std::size_t> offset, std::vector<std::size_t> size, std::size_t window)
    : offset_(std::move(offset)), size_(std::move(size)), window_(window) {
  if (window == 0) throw Error("staleness: the window must be at least 1");
  if (window > max_window) {
    throw Error("staleness: window " + std::to_string(window) + " is above the limit of " + std::to_string(max_window) +
                " updates");
  }
  const std::size_t parameters = offset_.empty() ? 0 : offset_.back() + size_.back();
  // Flat indices are kept as uint32.
  if (parameters > std::numeric_limits<std::uint32_t>::max()) {
    throw Error("staleness: more than 2^32 - 1 parameters");
  }
  // A layout's segments follow one another, so an update's flat indices are ascending.
  for (std::size_t s = 1; s < offset_.size(); ++s) assert(offset_[s] == offset_[s - 1] + size_[s - 1]);
  stride_ = shapes[shape_].words;
  reach_ = shapes[shape_].reach;
  parameters_ = parameters;
  allocate_records(storage_, first_record_, parameters * stride_);
  dense_count_.assign(offset_.size(), 0);
  // The ring starts empty and grows in record(): a large window costs nothing until it is used.
}

const StalenessTracker::Slot& StalenessTracker::slot_of(std::uint64_t version) const {
  const Slot& slot = ring_[version % (window_ + 1)];
  // Queries reach back to versions > t0 ≥ now − W only, all still in the ring.
  assert(slot.version == version && "staleness: read an evicted update");
  return slot;
}

std::uint64_t StalenessTracker::history_length() const {
  return std::min<std::uint64_t>(now_, window_);
}

void StalenessTracker::check_query(std::uint64_t base_version, std::size_t segment) const {
  if (segment >= offset_.size()) {
    throw Error("staleness: segment " + std::to_string(segment) + " out of range (" + std::to_string(offset_.size()) +
                " segments)");
  }
  check_base(base_version);
}

void StalenessTracker::check_base(std::uint64_t base_version) const {
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
  return static_cast<std::uint32_t>(dense_count_[segment] - slot_of(base_version + 1).dense_before[segment]);
}

// τ of local index local(j) into tau_out[j], for every j: the dense touches of the segment, plus
// each index's sparse touches of versions in (mask_base, L_i] from its record, where mask_base =
// max(t0, now − R) is as far back as the records reach. The entries' loads are independent, so
// the processor overlaps their cache misses.
template <typename LocalIndex>
void StalenessTracker::count(std::uint64_t base_version, std::size_t segment, LocalIndex local,
                             std::span<std::uint32_t> tau_out) const {
  const std::uint32_t dense = dense_count(base_version, segment);
  const std::uint64_t mask_base = std::max<std::uint64_t>(base_version, now_ > reach_ ? now_ - reach_ : 0);
  const RecordShape& shape = shapes[shape_];
  const Cut cut(mask_base + 1, shape);
  const std::size_t stride = shape.words;
  const std::uint64_t* records = this->records() + offset_[segment] * stride;
  const std::size_t n = tau_out.size();
  for (std::size_t j = 0; j < n; ++j) {
    if (j + prefetch_distance < n) {
      prefetch_words(records + local(j + prefetch_distance) * stride, 1, cut.base.word, cut.mask_word);
    }
    tau_out[j] = dense + count_recent(records + local(j) * stride, mask_base, cut);
  }
  if (mask_base > base_version) count_older(base_version, mask_base, segment, local, tau_out);
}

// Adds to tau_out the sparse touches of versions in (base_version, mask_base], which the records
// do not reach, from the ring: each of those updates' indices in the segment, merged with the
// query's (both ascending).
template <typename LocalIndex>
void StalenessTracker::count_older(std::uint64_t base_version, std::uint64_t mask_base, std::size_t segment,
                                   LocalIndex local, std::span<std::uint32_t> tau_out) const {
  const std::size_t offset = offset_[segment];
  const std::size_t end = offset + size_[segment];
  for (std::uint64_t v = base_version + 1; v <= mask_base; ++v) {
    const std::vector<std::uint32_t>& touched = slot_of(v).touched;
    const auto* t = std::lower_bound(touched.data(), touched.data() + touched.size(), offset);
    const auto* t_end = std::lower_bound(t, touched.data() + touched.size(), end);
    if constexpr (std::is_same_v<LocalIndex, AllIndices>) {
      for (; t != t_end; ++t) ++tau_out[*t - offset];
    } else {
      for (std::size_t j = 0; j < tau_out.size() && t != t_end;) {
        const std::size_t flat = offset + local(j);
        if (*t < flat) {
          ++t;
        } else {
          if (*t == flat) {
            ++tau_out[j];
            ++t;
          }
          ++j;
        }
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
  count(base_version, segment, ListedIndices{local_indices}, tau_out);
}

void StalenessTracker::staleness_dense(std::uint64_t base_version, std::size_t segment,
                                       std::span<std::uint32_t> tau_out) const {
  check_query(base_version, segment);
  if (tau_out.size() != size_[segment]) {
    throw Error("staleness: output has " + std::to_string(tau_out.size()) + " entries for segment " +
                std::to_string(segment) + " of size " + std::to_string(size_[segment]));
  }
  count(base_version, segment, AllIndices{}, tau_out);
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

// The slot for update `version`, with room for its entries, and room to undo it. Everything that
// can allocate happens here, before anything changes, so running out of memory leaves the
// tracker as it was.
StalenessTracker::Slot& StalenessTracker::prepare(std::uint64_t version, std::size_t sparse_entries) {
  try {
    const std::size_t slot_index = version % (window_ + 1);
    if (slot_index >= ring_.size()) {
      // Grows one slot per update until the ring is full; capacity doubles but never passes W + 1.
      if (slot_index >= ring_.capacity()) {
        ring_.reserve(std::min(window_ + 1, std::max<std::size_t>({2, 2 * ring_.size(), slot_index + 1})));
      }
      ring_.resize(slot_index + 1);
    }
    Slot& slot = ring_[slot_index];
    slot.touched.reserve(sparse_entries);
    slot.dense_before.reserve(dense_count_.size());
    undo_.reserve(3 * sparse_entries);
    return slot;
  } catch (const std::bad_alloc&) {
    throw Error("staleness: out of memory recording update " + std::to_string(version) + " (window " +
                std::to_string(window_) + ")");
  }
}

// Records `update` as version now + 1, and with Count, first writes τ of its entries for
// base_version into tau_out. Each sparse entry is counted, then touched, while its record is in
// the cache; the dense blocks' τ only read the masks, and their counts move after.
template <bool Count>
void StalenessTracker::apply(const Message& update, std::uint64_t base_version, std::span<std::uint32_t> tau_out) {
  const std::size_t sparse_entries = check_update(update);
  if constexpr (Count) {
    check_base(base_version);
    std::size_t entries = 0;
    for (const TensorBlock& block : update.blocks) entries += block.dense ? size_[block.segment] : block.indices.size();
    if (tau_out.size() != entries) {
      throw Error("staleness: output has " + std::to_string(tau_out.size()) + " entries for an update of " +
                  std::to_string(entries));
    }
  }
  const std::uint64_t version = now_ + 1;
  Slot& slot = prepare(version, sparse_entries);
  // From here on nothing throws.
  slot.version = version;
  slot.touched.clear();  // keeps its capacity
  slot.dense_before.assign(dense_count_.begin(), dense_count_.end());
  undo_.clear();
  const RecordShape& shape = shapes[shape_];
  const std::size_t stride = shape.words;
  const Position at(version, shape);
  const std::uint64_t mask_base = std::max<std::uint64_t>(base_version, now_ > reach_ ? now_ - reach_ : 0);
  const Cut cut(mask_base + 1, shape);
  std::size_t position = 0;  // in tau_out
  for (const TensorBlock& block : update.blocks) {
    if (block.dense) {
      if constexpr (Count) {
        const std::span<std::uint32_t> block_tau = tau_out.subspan(position, size_[block.segment]);
        count(base_version, block.segment, AllIndices{}, block_tau);
        position += block_tau.size();
      }
      continue;
    }
    const std::size_t offset = offset_[block.segment];
    std::uint64_t* records = this->records() + offset * stride;
    const std::uint32_t* indices = block.indices.data();
    const std::size_t n = block.indices.size();
    [[maybe_unused]] std::uint32_t dense = 0;
    if constexpr (Count) dense = dense_count(base_version, block.segment);
    for (std::size_t j = 0; j < n; ++j) {
      if (j + prefetch_distance < n) {
        prefetch_words(records + indices[j + prefetch_distance] * stride, Count ? cut.base.word : 1,
                       Count ? cut.mask_word : 1, at.mask_word);
      }
      std::uint64_t* record = records + indices[j] * stride;
      if constexpr (Count) tau_out[position + j] = dense + count_recent(record, mask_base, cut);
      undo_.push_back(record[0]);
      undo_.push_back(record[at.mask_word]);
      undo_.push_back(touches_field.get(record) | at.base.get(record) << 16);
      touch(record, version, at, shape);
      slot.touched.push_back(static_cast<std::uint32_t>(offset + indices[j]));
    }
    if constexpr (Count) {
      const std::span<std::uint32_t> block_tau = tau_out.subspan(position, n);
      if (mask_base > base_version) {
        count_older(base_version, mask_base, block.segment, ListedIndices{block.indices}, block_tau);
      }
      position += n;
    }
  }
  for (const TensorBlock& block : update.blocks) {
    if (block.dense) ++dense_count_[block.segment];
  }
  now_ = version;
  undoable_ = true;
}

void StalenessTracker::record(const Message& update) {
  apply<false>(update, 0, {});
}

void StalenessTracker::count_and_record(const Message& update, std::uint64_t base_version,
                                        std::span<std::uint32_t> tau_out) {
  apply<true>(update, base_version, tau_out);
}

// Restores each touched record's L_i, C_i, and the mask word and base field of the update's
// slot. The other blocks the touch filled now lie beyond L_i, where nothing reads them until the
// next touch fills them again; what they held before belonged to blocks more than K behind the
// update's, out of every query's reach even with the update gone. (The update's own slot held
// block(update) − K, still in reach when the update is the first version of its block.)
void StalenessTracker::undo_record() {
  if (!undoable_) throw Error("staleness: no record to undo");
  const std::uint64_t version = now_;
  const Position at(version, shapes[shape_]);
  const Slot& slot = slot_of(version);
  for (std::size_t j = 0; j < slot.touched.size(); ++j) {
    std::uint64_t* record = records() + std::size_t{slot.touched[j]} * stride_;
    record[0] = undo_[3 * j];
    record[at.mask_word] = undo_[3 * j + 1];
    touches_field.set(record, undo_[3 * j + 2] & 0xFFFFU);
    at.base.set(record, undo_[3 * j + 2] >> 16);
  }
  dense_count_.assign(slot.dense_before.begin(), slot.dense_before.end());
  ring_[version % (window_ + 1)].version = 0;  // its old update was older than the window needs
  now_ = version - 1;
  undoable_ = false;
}

// Records of shapes[shape], replayed from the kept history: exact for every version a query can
// reach (above now − W), which is all a record has to be.
void StalenessTracker::rebuild_records(std::size_t shape) {
  const RecordShape& to = shapes[shape];
  std::unique_ptr<std::uint64_t[]> storage;
  std::size_t first = 0;
  allocate_records(storage, first, parameters_ * to.words);  // the only allocation
  std::uint64_t* records = storage.get() + first;
  for (std::uint64_t age = history_length(); age > 0; --age) {
    const std::uint64_t v = now_ - age + 1;
    const Position at(v, to);
    for (const std::uint32_t flat : slot_of(v).touched) touch(records + flat * to.words, v, at, to);
  }
  storage_ = std::move(storage);
  first_record_ = first;
  shape_ = shape;
  stride_ = to.words;
  reach_ = to.reach;
  undoable_ = false;  // the undo words were the old records'
}

void StalenessTracker::reserve_delay(std::uint64_t delay) {
  const std::size_t shape = shape_for(std::min<std::uint64_t>({delay, window_, max_record_reach}));
  if (shape <= shape_) return;
  try {
    rebuild_records(shape);
  } catch (const std::bad_alloc&) {
    throw Error("staleness: out of memory widening the records to reach " + std::to_string(shapes[shape].reach) +
                " updates (" + std::to_string(parameters_ * shapes[shape].words * sizeof(std::uint64_t)) + " bytes)");
  }
}

// Layout, all integers little-endian (rnn/core/byte_io.hpp):
//   string  state_tag
//   u64     parameters, segments, then each segment's size
//   u64     window, version, record reach, history length H = min(version, window)
//   u64     per segment: its dense touches before the history
//   H updates, oldest first: varint block count, then per block varint segment, u8 dense (0/1),
//           and for a sparse block varint index count and the indices as varint gaps (the first
//           from 0)
void StalenessTracker::save_state(std::vector<std::uint8_t>& out) const {
  wire::put_string(out, state_tag);
  wire::put_u64(out, parameters_);
  wire::put_u64(out, offset_.size());
  for (const std::size_t size : size_) wire::put_u64(out, size);
  const std::uint64_t history = history_length();
  wire::put_u64(out, window_);
  wire::put_u64(out, now_);
  wire::put_u64(out, reach_);
  wire::put_u64(out, history);
  const std::vector<std::uint64_t>& dense_base = history > 0 ? slot_of(now_ - history + 1).dense_before : dense_count_;
  for (const std::uint64_t count : dense_base) wire::put_u64(out, count);
  for (std::uint64_t age = history; age > 0; --age) {
    const std::uint64_t v = now_ - age + 1;
    const Slot& slot = slot_of(v);
    const std::vector<std::uint64_t>& dense_after = v == now_ ? dense_count_ : slot_of(v + 1).dense_before;
    // Per segment: densely touched, or the range of its sparse indices in slot.touched.
    const auto dense = [&](std::size_t s) { return dense_after[s] != slot.dense_before[s]; };
    const auto sparse_end = [&](std::size_t s, const std::uint32_t* from) {
      return std::lower_bound(from, slot.touched.data() + slot.touched.size(), offset_[s] + size_[s]);
    };
    std::size_t blocks = 0;
    const std::uint32_t* from = slot.touched.data();
    for (std::size_t s = 0; s < offset_.size(); ++s) {
      const std::uint32_t* to = sparse_end(s, from);
      blocks += dense(s) || to != from ? 1 : 0;
      from = to;
    }
    wire::put_varint(out, blocks);
    from = slot.touched.data();
    for (std::size_t s = 0; s < offset_.size(); ++s) {
      const std::uint32_t* to = sparse_end(s, from);
      if (dense(s) || to != from) {
        wire::put_varint(out, s);
        wire::put_u8(out, dense(s) ? 1 : 0);
      }
      if (!dense(s) && to != from) {
        wire::put_varint(out, static_cast<std::uint64_t>(to - from));
        std::size_t previous = offset_[s];
        for (const std::uint32_t* t = from; t != to; ++t) {
          wire::put_varint(out, *t - previous);
          previous = *t;
        }
      }
      from = to;
    }
  }
}

void StalenessTracker::load_state(wire::Reader& in) {
  const auto fail = [](const std::string& problem) { throw Error("staleness state: " + problem); };
  const auto expect = [&](std::uint64_t got, std::uint64_t want, const char* what) {
    if (got != want) {
      fail(std::string(what) + " is " + std::to_string(got) + ", this tracker's is " + std::to_string(want));
    }
  };
  if (in.string("staleness state tag") != state_tag) fail("not a staleness tracker's state (wrong tag)");
  expect(in.u64("parameter count"), parameters_, "the parameter count");
  expect(in.u64("segment count"), offset_.size(), "the segment count");
  for (std::size_t s = 0; s < size_.size(); ++s) {
    expect(in.u64("segment size"), size_[s], ("the size of segment " + std::to_string(s)).c_str());
  }
  expect(in.u64("window"), window_, "the window");
  const std::uint64_t version = in.u64("version");
  const std::uint64_t reach = in.u64("record reach");
  const std::size_t widest = shape_for(std::min(window_, max_record_reach));
  std::size_t shape = 0;
  while (shape <= widest && shapes[shape].reach != reach) ++shape;
  if (shape > widest) {
    fail("record reach " + std::to_string(reach) + " is not one this tracker uses (" +
         std::to_string(min_record_reach) + " … " + std::to_string(shapes[widest].reach) + ", by record size)");
  }
  // Recording goes on from here: the next version must exist.
  if (version == std::numeric_limits<std::uint64_t>::max())
    fail("version " + std::to_string(version) + " has no successor");
  const std::uint64_t history = in.u64("history length");
  if (history != std::min<std::uint64_t>(version, window_)) {
    fail("a history of " + std::to_string(history) + " updates at version " + std::to_string(version) +
         " with window " + std::to_string(window_) + " (it keeps the last min(version, window))");
  }
  const std::uint64_t first = version - history + 1;  // the oldest update kept

  // Built beside this one, replaced only once everything has been read and checked.
  std::unique_ptr<StalenessTracker> built;  // the constructor is private: no make_unique
  try {
    built.reset(new StalenessTracker(offset_, size_, window_));
    built->rebuild_records(shape);  // empty records of that shape
  } catch (const std::bad_alloc&) {
    fail("out of memory for records reaching " + std::to_string(reach) + " updates");
  }
  StalenessTracker& loaded = *built;
  loaded.now_ = first - 1;
  for (std::size_t s = 0; s < offset_.size(); ++s) {
    loaded.dense_count_[s] = in.u64("dense touch count");
    if (loaded.dense_count_[s] > loaded.now_) {
      fail("segment " + std::to_string(s) + " has " + std::to_string(loaded.dense_count_[s]) +
           " dense touches before update " + std::to_string(first) + ", more than there were updates");
    }
  }
  Message update;
  for (std::uint64_t age = history; age > 0; --age) {
    const std::uint64_t v = version - age + 1;
    const std::string where = "update " + std::to_string(v) + ": ";
    const std::uint64_t blocks = in.varint("block count");
    if (blocks > offset_.size()) {
      fail(where + std::to_string(blocks) + " blocks, the layout has " + std::to_string(offset_.size()) + " segments");
    }
    update.blocks.resize(static_cast<std::size_t>(blocks));
    for (std::size_t k = 0; k < update.blocks.size(); ++k) {
      TensorBlock& block = update.blocks[k];
      const std::uint64_t segment = in.varint("segment");
      if (segment >= offset_.size()) fail(where + "segment " + std::to_string(segment) + " out of range");
      if (k > 0 && segment <= update.blocks[k - 1].segment) {
        fail(where + "segment " + std::to_string(segment) + " after segment " +
             std::to_string(update.blocks[k - 1].segment) + " (each at most once, in increasing order)");
      }
      block.segment = static_cast<std::uint32_t>(segment);
      const std::uint8_t dense = in.u8("dense flag");
      if (dense > 1) fail(where + "dense flag " + std::to_string(dense) + " is neither 0 nor 1");
      block.dense = dense == 1;
      block.indices.clear();
      if (block.dense) continue;
      const std::uint64_t count = in.varint("index count");
      if (count > size_[segment]) {
        fail(where + std::to_string(count) + " indices in segment " + std::to_string(segment) + " of size " +
             std::to_string(size_[segment]));
      }
      // Each index takes at least a byte: a count beyond the input is refused before any allocation.
      in.require(static_cast<std::size_t>(count), "indices");
      std::uint64_t index = 0;
      for (std::uint64_t j = 0; j < count; ++j) {
        const std::uint64_t gap = in.varint("index gap");
        if ((j > 0 && gap == 0) || gap >= size_[segment] - index) {
          fail(where + "index gap " + std::to_string(gap) + " at entry " + std::to_string(j) + " of segment " +
               std::to_string(segment) + " repeats an index or leaves the segment (size " +
               std::to_string(size_[segment]) + ")");
        }
        index += gap;
        block.indices.push_back(static_cast<std::uint32_t>(index));
      }
      if (count == 0) fail(where + "an empty sparse block for segment " + std::to_string(segment));
    }
    loaded.record(update);  // checked above: throws only if memory runs out
  }
  loaded.undoable_ = false;   // the saved tracker's undo record is not part of its state
  *this = std::move(loaded);  // `loaded` is *built
}

}  // namespace rnn
