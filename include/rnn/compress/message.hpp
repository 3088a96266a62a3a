#pragma once
// One worker → server push, as the compressor produces it and the receiver decodes it.
// A push holds at most one block per parameter tensor (segment of the flat vector). A block is
// either dense (every entry of its segment, in order) or sparse (strictly increasing local
// indices with one value each). Values are what the server applies: quantising compressors
// already put them on their grid and say so, so the codec can send them exactly.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "rnn/core/parameters.hpp"

namespace rnn {

// The set of values a block's entries take, when a compressor restricts them. Entry j of a
// grid block belongs to bucket j / bucket (all to bucket 0 when bucket is 0), and each bucket
// has its own scale: QSGD normalises each bucket by its own l2 norm (Alistarh et al. 2017).
enum class ValueGrid : std::uint8_t {
  none,    // any float
  sign,    // ±scale
  levels,  // scale · l / levels, l an integer in [-levels, levels]
};

// Buckets a grid block of `count` entries has: one for the whole block when `bucket` is 0.
[[nodiscard]] inline std::size_t bucket_count(std::size_t count, std::uint32_t bucket) {
  return bucket == 0 ? 1 : (count + bucket - 1) / bucket;
}

struct TensorBlock {
  std::uint32_t segment = 0;           // index into ParameterLayout::segments()
  bool dense = false;                  // true: values cover the whole segment, indices unused
  std::vector<std::uint32_t> indices;  // sparse: local to the segment, strictly increasing
  std::vector<float> values;           // one per entry
  ValueGrid grid = ValueGrid::none;
  std::uint32_t levels = 0;   // levels grid: s
  std::uint32_t bucket = 0;   // grids: entries per scale, 0 = one scale for the whole block
  std::vector<float> scales;  // grids: bucket_count(count(), bucket) scales, in entry order

  [[nodiscard]] std::size_t count() const { return values.size(); }
  // The scale of entry j on a grid.
  [[nodiscard]] float scale_of(std::size_t j) const { return scales[bucket == 0 ? 0 : j / bucket]; }
  // Puts the block on `grid` with one scale for all its entries.
  void set_grid(ValueGrid g, float scale, std::uint32_t grid_levels = 0) {
    grid = g;
    levels = grid_levels;
    bucket = 0;
    scales.assign(1, scale);
  }
  // Empties the block but keeps its buffers, so a reused message does not allocate.
  void clear_entries() {
    indices.clear();
    values.clear();
    dense = false;
    grid = ValueGrid::none;
    levels = 0;
    bucket = 0;
    scales.clear();
  }
};

struct Message {
  std::uint64_t base_version = 0;  // server version the worker's parameters came from (t0)
  std::uint32_t worker = 0;
  std::vector<TensorBlock> blocks;  // ascending segment order, each segment at most once

  [[nodiscard]] std::size_t entry_count() const {
    std::size_t n = 0;
    for (const auto& b : blocks) n += b.count();
    return n;
  }
};

// Calls f(flat_index, value) for every entry of `message`, in block order; `layout` maps each
// block's local indices to the flat vector.
template <typename F>
void for_each_entry(const Message& message, const ParameterLayout& layout, F&& f) {
  for (const auto& block : message.blocks) {
    const std::size_t offset = layout.segment(block.segment).offset;
    for (std::size_t j = 0; j < block.count(); ++j) f(offset + (block.dense ? j : block.indices[j]), block.values[j]);
  }
}

// The rule for a sparse block's indices: strictly increasing, each below the tensor's `size`.
// Returns the position of the first entry that breaks it, or indices.size() if none does. (The
// codec checks decoded blocks with it, the staleness tracker its own input; each words its error.)
[[nodiscard]] inline std::size_t first_invalid_index(std::span<const std::uint32_t> indices, std::size_t size) {
  for (std::size_t j = 0; j < indices.size(); ++j) {
    if (indices[j] >= size || (j > 0 && indices[j] <= indices[j - 1])) return j;
  }
  return indices.size();
}

// A value on the `levels` grid. Compressors and the codec both compute grid values through this
// one expression, so a value re-quantised by the codec comes back bit for bit. Computed in double
// so that scale · level cannot overflow: with |level| ≤ levels the result never exceeds scale.
[[nodiscard]] inline float level_value(float scale, std::int32_t level, std::uint32_t levels) {
  return static_cast<float>(static_cast<double>(scale) * level / levels);
}

// Grid scales, computed by the compressors that quantise and by the codec when it quantises an
// unquantised block itself, through the same code so both give the same scale.
[[nodiscard]] inline float mean_magnitude(std::span<const float> values) {  // sign grids: keeps the l1 norm
  double sum = 0.0;
  for (const float v : values) sum += std::fabs(v);
  return values.empty() ? 0.0F : static_cast<float>(sum / static_cast<double>(values.size()));
}
[[nodiscard]] inline float max_magnitude(std::span<const float> values) {  // level grids (TernGrad)
  float max_abs = 0.0F;
  for (const float v : values) max_abs = std::max(max_abs, std::fabs(v));
  return max_abs;
}
[[nodiscard]] inline double l2_norm(std::span<const float> values) {  // QSGD's scale, DGC's clipping
  double squares = 0.0;
  for (const float v : values) squares += static_cast<double>(v) * v;
  return std::sqrt(squares);
}

}  // namespace rnn
