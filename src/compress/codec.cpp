#include "rnn/compress/codec.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cmath>

#include "bit_packing.hpp"
#include "rnn/compress/half.hpp"
#include "rnn/core/byte_io.hpp"
#include "rnn/core/error.hpp"

namespace rnn {
namespace {

constexpr std::uint8_t dense_flag = 1;

// The grid a block is sent on: its own if a compressor put it on one, else one scale the codec
// chose for the whole block (`own`).
struct Grid {
  std::uint32_t levels = 0;
  std::uint32_t bucket = 0;  // as sent: 0 whenever one bucket covers the block
  std::span<const float> scales;
  float own = 0.0F;

  [[nodiscard]] std::size_t scale_count() const { return scales.empty() ? 1 : scales.size(); }
  [[nodiscard]] float scale(std::size_t bucket_index) const { return scales.empty() ? own : scales[bucket_index]; }
  [[nodiscard]] float scale_of(std::size_t j) const { return scale(bucket == 0 ? 0 : j / bucket); }
};

// A block's own grid; a bucket as large as the block is sent as 0, so each grid has one encoding.
Grid own_grid(const TensorBlock& b, std::uint32_t levels) {
  return {levels, b.bucket >= b.count() ? 0 : b.bucket, b.scales, 0.0F};
}

// The sign grid a block is sent on: its own, or the mean magnitude (which keeps the l1 norm).
Grid sign_grid_of(const TensorBlock& b) {
  if (b.grid == ValueGrid::sign) return own_grid(b, 1);
  return {1, 0, {}, mean_magnitude(b.values)};
}

// The level grid: its own (a sign grid is a grid of one level), or s levels of the max |v|.
Grid levels_of(const TensorBlock& b, const CodecOptions& options) {
  if (b.grid == ValueGrid::levels) return own_grid(b, b.levels);
  if (b.grid == ValueGrid::sign) return own_grid(b, 1);
  return {options.levels, 0, {}, max_magnitude(b.values)};
}

// Needs levels ≤ max_levels (so that ±levels fits an int32) and a finite value.
std::int32_t level_of(float value, float scale, std::uint32_t levels) {
  if (scale == 0.0F || !std::isfinite(value)) return 0;
  const double level = std::nearbyint(static_cast<double>(value) / scale * levels);
  const auto s = static_cast<double>(levels);
  return static_cast<std::int32_t>(std::clamp(level, -s, s));
}

unsigned level_width(std::uint32_t levels) {
  return static_cast<unsigned>(std::bit_width(2U * levels));
}

// Names a block in errors: by its tensor when a layout is at hand, else by its segment number.
// Formatted only when an error is thrown, so checking allocates nothing.
struct BlockName {
  std::uint32_t segment = 0;
  const Segment* tensor = nullptr;
  [[nodiscard]] std::string str() const {
    return tensor != nullptr ? fmt::format("block for '{}'", tensor->name)
                             : fmt::format("block for segment {}", segment);
  }
};

// What every grid block must satisfy before the codec computes with it: levels in range (0 would
// divide by zero, beyond max_levels overflow the level codes), one finite non-negative scale per
// bucket.
void check_grid(const TensorBlock& b, const BlockName& name) {
  if (b.grid == ValueGrid::none) return;
  if (b.grid != ValueGrid::sign && b.grid != ValueGrid::levels)
    throw Error(fmt::format("{} has an unknown value grid {}", name.str(), static_cast<unsigned>(b.grid)));
  if (b.grid == ValueGrid::levels && (b.levels < 1 || b.levels > max_levels))
    throw Error(fmt::format("{} has {} levels (1 … {} allowed)", name.str(), b.levels, max_levels));
  const std::size_t buckets = bucket_count(b.count(), b.bucket);
  if (b.scales.size() != buckets)
    throw Error(fmt::format("{} has {} grid scales for {} buckets of {} entries", name.str(), b.scales.size(), buckets,
                            b.bucket));
  for (const float scale : b.scales)
    if (!std::isfinite(scale) || std::signbit(scale))
      throw Error(fmt::format("{} has an invalid grid scale {}", name.str(), scale));
}

void check_values(const TensorBlock& b, const BlockName& name) {
  for (const float v : b.values)
    if (!std::isfinite(v)) throw Error(fmt::format("{} holds a non-finite value", name.str()));
}

// One bit per value cannot carry a zero, and quantisers on a level grid (qsgd, terngrad) send
// mostly zeros: turning them into +scale would bias every step, so the pairing is refused.
void check_encodable(const TensorBlock& b, const Segment& s, const CodecOptions& options) {
  if (options.values == ValueEncoding::sign_scale && b.grid == ValueGrid::levels)
    throw Error(
        fmt::format("block for '{}' is on a {}-level grid; the sign encoding cannot carry its zeros "
                    "(use the levels encoding)",
                    s.name, b.levels));
}

void check_block(const TensorBlock& b, const ParameterLayout& layout, std::int64_t previous_segment) {
  if (b.segment >= layout.segments().size())
    throw Error(fmt::format("block names segment {}, the layout has {}", b.segment, layout.segments().size()));
  if (static_cast<std::int64_t>(b.segment) <= previous_segment)
    throw Error("blocks must be in strictly increasing segment order");
  const Segment& s = layout.segment(b.segment);
  if (b.dense) {
    if (b.values.size() != s.size())
      throw Error(
          fmt::format("dense block for '{}' has {} values, the tensor has {}", s.name, b.values.size(), s.size()));
  } else {
    if (b.indices.size() != b.values.size())
      throw Error(
          fmt::format("block for '{}' has {} indices but {} values", s.name, b.indices.size(), b.values.size()));
    if (const std::size_t j = first_invalid_index(b.indices, s.size()); j < b.indices.size()) {
      throw Error(
          fmt::format("block for '{}': index {} at entry {} is out of range (size {}) or not above the one "
                      "before (indices must be strictly increasing)",
                      s.name, b.indices[j], j, s.size()));
    }
  }
  const BlockName name{b.segment, &s};
  check_values(b, name);
  check_grid(b, name);
}

void write_indices(const TensorBlock& b, IndexEncoding encoding, std::vector<std::uint8_t>& out) {
  if (encoding == IndexEncoding::u32) {
    for (const auto i : b.indices) wire::put_u32(out, i);
    return;
  }
  std::uint64_t next = 0;  // smallest index the next entry may have
  for (const auto i : b.indices) {
    wire::put_varint(out, i - next);
    next = std::uint64_t{i} + 1;
  }
}

void write_grid_scales(const Grid& g, std::vector<std::uint8_t>& out) {
  wire::put_varint(out, g.bucket);
  for (std::size_t k = 0; k < g.scale_count(); ++k) wire::put_f32(out, g.scale(k));
}

void write_values(const TensorBlock& b, const CodecOptions& options, std::vector<std::uint8_t>& out) {
  switch (options.values) {
    case ValueEncoding::f32:
      for (const float v : b.values) wire::put_f32(out, v);
      return;
    case ValueEncoding::f16:
      for (const float v : b.values) wire::put_u16(out, float_to_half(v));
      return;
    case ValueEncoding::sign_scale: {
      write_grid_scales(sign_grid_of(b), out);
      wire::BitWriter bits(out, 1);
      for (const float v : b.values) bits.put(std::signbit(v) ? 1U : 0U);
      bits.flush();
      return;
    }
    case ValueEncoding::levels: {
      const Grid g = levels_of(b, options);
      wire::put_varint(out, g.levels);
      write_grid_scales(g, out);
      wire::BitWriter bits(out, level_width(g.levels));
      for (std::size_t j = 0; j < b.count(); ++j)
        bits.put(static_cast<std::uint32_t>(level_of(b.values[j], g.scale_of(j), g.levels) +
                                            static_cast<std::int32_t>(g.levels)));
      bits.flush();
      return;
    }
  }
}

void read_indices(wire::Reader& r, IndexEncoding encoding, std::size_t count, const Segment& s,
                  std::vector<std::uint32_t>& indices) {
  indices.resize(count);
  if (encoding == IndexEncoding::u32) {
    r.require(4 * count, "indices");
    std::int64_t previous = -1;
    for (auto& index : indices) {
      index = r.u32("index");
      if (index >= s.size())
        throw Error(fmt::format("index {} out of range for '{}' (size {})", index, s.name, s.size()));
      if (static_cast<std::int64_t>(index) <= previous)
        throw Error(fmt::format("indices for '{}' are not strictly increasing", s.name));
      previous = index;
    }
    return;
  }
  r.require(count, "indices");  // at least one byte each
  std::uint64_t next = 0;
  for (auto& index : indices) {
    const std::uint64_t delta = r.varint("index delta");
    if (next >= s.size() || delta >= s.size() - next)
      throw Error(fmt::format("index out of range for '{}' (size {})", s.name, s.size()));
    index = static_cast<std::uint32_t>(next + delta);
    next = std::uint64_t{index} + 1;
  }
}

// The bucket length and one scale per bucket. A bucket as long as the block must be sent as 0.
void read_grid_scales(wire::Reader& r, std::size_t count, const Segment& s, TensorBlock& b) {
  const std::uint64_t bucket = r.varint("bucket");
  if (bucket != 0 && bucket >= count)
    throw Error(fmt::format("bucket of {} entries for a block of {} in '{}' (0, or 1 … {} allowed)", bucket, count,
                            s.name, count - 1));
  b.bucket = static_cast<std::uint32_t>(bucket);  // < count ≤ the segment size, which fits 32 bits
  const std::size_t buckets = bucket_count(count, b.bucket);
  r.require(4 * buckets, "scales");
  b.scales.resize(buckets);
  for (auto& scale : b.scales) {
    scale = r.f32("scale");
    if (!std::isfinite(scale) || std::signbit(scale)) throw Error(fmt::format("invalid scale for '{}'", s.name));
  }
}

void read_values(wire::Reader& r, ValueEncoding encoding, std::size_t count, const Segment& s, TensorBlock& b) {
  b.values.resize(count);
  switch (encoding) {
    case ValueEncoding::f32:
      r.require(4 * count, "values");
      for (auto& v : b.values) {
        v = r.f32("value");
        if (!std::isfinite(v)) throw Error(fmt::format("non-finite value for '{}'", s.name));
      }
      return;
    case ValueEncoding::f16:
      r.require(2 * count, "values");
      for (auto& v : b.values) {
        const std::uint16_t h = r.u16("value");
        if (!half_is_finite(h)) throw Error(fmt::format("non-finite value for '{}'", s.name));
        v = half_to_float(h);
      }
      return;
    case ValueEncoding::sign_scale: {
      b.grid = ValueGrid::sign;
      read_grid_scales(r, count, s, b);
      wire::BitReader bits(r.take(wire::packed_bytes(count, 1), "sign bits"), 1);
      for (std::size_t j = 0; j < count; ++j) {
        const float scale = b.scale_of(j);
        b.values[j] = bits.get() != 0 ? -scale : scale;
      }
      if (!bits.padding_is_zero()) throw Error(fmt::format("non-zero padding bits for '{}'", s.name));
      return;
    }
    case ValueEncoding::levels: {
      const std::uint64_t levels = r.varint("levels");
      if (levels < 1 || levels > max_levels)
        throw Error(fmt::format("{} levels for '{}' (1 … {} allowed)", levels, s.name, max_levels));
      b.grid = ValueGrid::levels;
      b.levels = static_cast<std::uint32_t>(levels);
      read_grid_scales(r, count, s, b);
      const unsigned width = level_width(b.levels);
      wire::BitReader bits(r.take(wire::packed_bytes(count, width), "levels"), width);
      for (std::size_t j = 0; j < count; ++j) {
        const std::uint32_t code = bits.get();
        if (code > 2 * b.levels) throw Error(fmt::format("level out of range for '{}'", s.name));
        b.values[j] =
            level_value(b.scale_of(j), static_cast<std::int32_t>(code) - static_cast<std::int32_t>(b.levels), b.levels);
      }
      if (!bits.padding_is_zero()) throw Error(fmt::format("non-zero padding bits for '{}'", s.name));
      return;
    }
  }
}

}  // namespace

IndexEncoding parse_index_encoding(std::string_view name) {
  if (name == "u32") return IndexEncoding::u32;
  if (name == "delta-varint") return IndexEncoding::delta_varint;
  throw Error(fmt::format("unknown index encoding '{}' (choose u32 or delta-varint)", name));
}

ValueEncoding parse_value_encoding(std::string_view name) {
  if (name == "f32") return ValueEncoding::f32;
  if (name == "f16") return ValueEncoding::f16;
  if (name == "sign") return ValueEncoding::sign_scale;
  if (name == "levels") return ValueEncoding::levels;
  throw Error(fmt::format("unknown value encoding '{}' (choose f32, f16, sign or levels)", name));
}

std::string_view to_string(IndexEncoding e) {
  return e == IndexEncoding::u32 ? "u32" : "delta-varint";
}

std::string_view to_string(ValueEncoding e) {
  switch (e) {
    case ValueEncoding::f32: return "f32";
    case ValueEncoding::f16: return "f16";
    case ValueEncoding::sign_scale: return "sign";
    case ValueEncoding::levels: return "levels";
  }
  return "?";
}

void check_codec_options(const CodecOptions& options) {
  if (options.indices != IndexEncoding::u32 && options.indices != IndexEncoding::delta_varint)
    throw Error("unknown index encoding");
  if (options.values > ValueEncoding::levels) throw Error("unknown value encoding");
  if (options.levels < 1 || options.levels > max_levels)
    throw Error(fmt::format("codec levels must be in 1 … {}, got {}", max_levels, options.levels));
}

void round_to_encoding(Message& message, const CodecOptions& options) {
  check_codec_options(options);
  // Every block first, so that a message with one bad block is left as it was.
  for (const auto& b : message.blocks) {
    const BlockName name{b.segment};
    check_values(b, name);
    check_grid(b, name);
  }
  for (auto& b : message.blocks) {
    switch (options.values) {
      case ValueEncoding::f32: break;
      case ValueEncoding::f16:
        for (auto& v : b.values) v = half_to_float(float_to_half(v));
        b.grid = ValueGrid::none;  // rounded values are off any grid they were on
        b.levels = 0;
        b.bucket = 0;
        b.scales.clear();
        break;
      case ValueEncoding::sign_scale: {
        if (b.grid == ValueGrid::levels) break;  // refused by encode(); see check_encodable
        if (b.grid == ValueGrid::none) b.set_grid(ValueGrid::sign, mean_magnitude(b.values));
        for (std::size_t j = 0; j < b.count(); ++j)
          b.values[j] = std::signbit(b.values[j]) ? -b.scale_of(j) : b.scale_of(j);
        break;
      }
      case ValueEncoding::levels: {
        const Grid g = levels_of(b, options);
        for (std::size_t j = 0; j < b.count(); ++j)
          b.values[j] = level_value(g.scale_of(j), level_of(b.values[j], g.scale_of(j), g.levels), g.levels);
        if (b.grid == ValueGrid::none) b.set_grid(ValueGrid::levels, g.own, g.levels);
        b.grid = ValueGrid::levels;
        b.levels = g.levels;
        break;
      }
    }
  }
}

void encode(const Message& message, const ParameterLayout& layout, const CodecOptions& options,
            std::vector<std::uint8_t>& out) {
  check_codec_options(options);
  std::size_t non_empty = 0;
  std::int64_t previous = -1;
  for (const auto& b : message.blocks) {
    check_block(b, layout, previous);
    check_encodable(b, layout.segment(b.segment), options);
    previous = b.segment;
    if (b.dense || b.count() > 0) ++non_empty;
  }
  out.clear();
  wire::put_u8(out, codec_version);
  wire::put_u8(out, static_cast<std::uint8_t>(static_cast<unsigned>(options.indices) |
                                              (static_cast<unsigned>(options.values) << 4U)));
  wire::put_varint(out, message.worker);
  wire::put_varint(out, message.base_version);
  wire::put_varint(out, non_empty);
  for (const auto& b : message.blocks) {
    if (!b.dense && b.count() == 0) continue;
    wire::put_varint(out, b.segment);
    wire::put_u8(out, b.dense ? dense_flag : 0);
    if (!b.dense) {
      wire::put_varint(out, b.count());
      write_indices(b, options.indices, out);
    }
    write_values(b, options, out);
  }
}

std::uint32_t peek_worker(std::span<const std::uint8_t> bytes) {
  wire::Reader r(bytes);
  const std::uint8_t version = r.u8("version");
  if (version != codec_version)
    throw Error(fmt::format("unsupported message version {} (this build reads version {})", version, codec_version));
  r.u8("encodings");
  const std::uint64_t worker = r.varint("worker");
  if (worker > UINT32_MAX) throw Error("worker id out of range");
  return static_cast<std::uint32_t>(worker);
}

CodecOptions decode(std::span<const std::uint8_t> bytes, const ParameterLayout& layout, Message& out) {
  wire::Reader r(bytes);
  const std::uint8_t version = r.u8("version");
  if (version != codec_version)
    throw Error(fmt::format("unsupported message version {} (this build reads version {})", version, codec_version));
  const std::uint8_t encodings = r.u8("encodings");
  const unsigned index_code = encodings & 0x0FU;
  const unsigned value_code = encodings >> 4U;
  if (index_code > static_cast<unsigned>(IndexEncoding::delta_varint))
    throw Error(fmt::format("unknown index encoding {}", index_code));
  if (value_code > static_cast<unsigned>(ValueEncoding::levels))
    throw Error(fmt::format("unknown value encoding {}", value_code));
  CodecOptions options;
  options.indices = static_cast<IndexEncoding>(index_code);
  options.values = static_cast<ValueEncoding>(value_code);

  const std::uint64_t worker = r.varint("worker");
  if (worker > UINT32_MAX) throw Error("worker id out of range");
  out.worker = static_cast<std::uint32_t>(worker);
  out.base_version = r.varint("base version");
  const std::uint64_t block_count = r.varint("block count");
  const auto& segments = layout.segments();
  if (block_count > segments.size())
    throw Error(fmt::format("message has {} blocks, the layout has {} tensors", block_count, segments.size()));
  // One block per tensor, always: block j keeps serving segment j, so its buffers are reused from
  // push to push whichever tensors a push carries.
  out.blocks.resize(segments.size());
  for (std::size_t s = 0; s < segments.size(); ++s) {
    out.blocks[s].clear_entries();
    out.blocks[s].segment = static_cast<std::uint32_t>(s);
  }
  std::int64_t previous = -1;
  for (std::uint64_t k = 0; k < block_count; ++k) {
    const std::uint64_t segment = r.varint("segment");
    if (segment >= segments.size())
      throw Error(fmt::format("segment {} out of range (layout has {})", segment, segments.size()));
    if (static_cast<std::int64_t>(segment) <= previous) throw Error("blocks not in strictly increasing segment order");
    previous = static_cast<std::int64_t>(segment);
    TensorBlock& b = out.blocks[segment];
    const Segment& s = segments[segment];
    const std::uint8_t flags = r.u8("block flags");
    if ((flags & ~dense_flag) != 0) throw Error(fmt::format("unknown block flags {:#x}", flags));
    b.dense = (flags & dense_flag) != 0;
    std::size_t count = s.size();
    if (!b.dense) {
      const std::uint64_t n = r.varint("entry count");
      if (n == 0 || n > s.size())
        throw Error(fmt::format("block for '{}' claims {} entries (1 … {} allowed)", s.name, n, s.size()));
      count = static_cast<std::size_t>(n);
      read_indices(r, options.indices, count, s, b.indices);
    }
    read_values(r, options.values, count, s, b);
  }
  if (r.remaining() != 0) throw Error(fmt::format("{} trailing bytes after the last block", r.remaining()));
  return options;
}

}  // namespace rnn
