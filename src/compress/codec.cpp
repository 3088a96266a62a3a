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

struct Grid {
  float scale = 0.0F;
  std::uint32_t levels = 0;
};

// The scale a sign_scale block is sent with: its own if the compressor put it on a sign grid,
// otherwise the mean magnitude (which keeps the block's l1 norm).
float sign_scale_of(const TensorBlock& b) {
  return b.grid == ValueGrid::sign ? b.scale : mean_magnitude(b.values);
}

Grid levels_of(const TensorBlock& b, const CodecOptions& options) {
  if (b.grid == ValueGrid::levels) return {b.scale, b.levels};
  if (b.grid == ValueGrid::sign) return {b.scale, 1};
  return {max_magnitude(b.values), options.levels};
}

std::int32_t level_of(float value, const Grid& g) {
  if (g.scale == 0.0F || !std::isfinite(value)) return 0;  // values were checked finite; NaN never reaches a cast
  const double level = std::nearbyint(static_cast<double>(value) / g.scale * g.levels);
  const auto s = static_cast<double>(g.levels);
  return static_cast<std::int32_t>(std::clamp(level, -s, s));
}

unsigned level_width(std::uint32_t levels) {
  return static_cast<unsigned>(std::bit_width(2U * levels));
}

void check_grid(const TensorBlock& b, const Segment& s) {
  if (b.grid == ValueGrid::none) return;
  if (!std::isfinite(b.scale) || std::signbit(b.scale))
    throw Error(fmt::format("block for '{}' has an invalid grid scale {}", s.name, b.scale));
  if (b.grid == ValueGrid::levels && (b.levels < 1 || b.levels > max_levels))
    throw Error(fmt::format("block for '{}' has {} levels (1 … {} allowed)", s.name, b.levels, max_levels));
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
  for (const float v : b.values)
    if (!std::isfinite(v)) throw Error(fmt::format("block for '{}' holds a non-finite value", s.name));
  check_grid(b, s);
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

void write_values(const TensorBlock& b, const CodecOptions& options, std::vector<std::uint8_t>& out) {
  switch (options.values) {
    case ValueEncoding::f32:
      for (const float v : b.values) wire::put_f32(out, v);
      return;
    case ValueEncoding::f16:
      for (const float v : b.values) wire::put_u16(out, float_to_half(v));
      return;
    case ValueEncoding::sign_scale: {
      wire::put_f32(out, sign_scale_of(b));
      wire::BitWriter bits(out, 1);
      for (const float v : b.values) bits.put(std::signbit(v) ? 1U : 0U);
      bits.flush();
      return;
    }
    case ValueEncoding::levels: {
      const Grid g = levels_of(b, options);
      wire::put_varint(out, g.levels);
      wire::put_f32(out, g.scale);
      wire::BitWriter bits(out, level_width(g.levels));
      for (const float v : b.values)
        bits.put(static_cast<std::uint32_t>(level_of(v, g) + static_cast<std::int32_t>(g.levels)));
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

float read_scale(wire::Reader& r, const Segment& s) {
  const float scale = r.f32("scale");
  if (!std::isfinite(scale) || std::signbit(scale)) throw Error(fmt::format("invalid scale for '{}'", s.name));
  return scale;
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
      const float scale = read_scale(r, s);
      wire::BitReader bits(r.take(wire::packed_bytes(count, 1), "sign bits"), 1);
      for (auto& v : b.values) v = bits.get() != 0 ? -scale : scale;
      if (!bits.padding_is_zero()) throw Error(fmt::format("non-zero padding bits for '{}'", s.name));
      b.grid = ValueGrid::sign;
      b.scale = scale;
      return;
    }
    case ValueEncoding::levels: {
      const std::uint64_t levels = r.varint("levels");
      if (levels < 1 || levels > max_levels)
        throw Error(fmt::format("{} levels for '{}' (1 … {} allowed)", levels, s.name, max_levels));
      const Grid g{read_scale(r, s), static_cast<std::uint32_t>(levels)};
      const unsigned width = level_width(g.levels);
      wire::BitReader bits(r.take(wire::packed_bytes(count, width), "levels"), width);
      for (auto& v : b.values) {
        const std::uint32_t code = bits.get();
        if (code > 2 * g.levels) throw Error(fmt::format("level out of range for '{}'", s.name));
        v = level_value(g.scale, static_cast<std::int32_t>(code) - static_cast<std::int32_t>(g.levels), g.levels);
      }
      if (!bits.padding_is_zero()) throw Error(fmt::format("non-zero padding bits for '{}'", s.name));
      b.grid = ValueGrid::levels;
      b.scale = g.scale;
      b.levels = g.levels;
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
  for (auto& b : message.blocks) {
    switch (options.values) {
      case ValueEncoding::f32: break;
      case ValueEncoding::f16:
        for (auto& v : b.values) v = half_to_float(float_to_half(v));
        b.grid = ValueGrid::none;  // rounded values are off any grid they were on
        break;
      case ValueEncoding::sign_scale: {
        if (b.grid == ValueGrid::levels) break;  // refused by encode(); see check_encodable
        const float scale = sign_scale_of(b);
        for (auto& v : b.values) v = std::signbit(v) ? -scale : scale;
        b.grid = ValueGrid::sign;
        b.scale = scale;
        break;
      }
      case ValueEncoding::levels: {
        const Grid g = levels_of(b, options);
        for (auto& v : b.values) v = level_value(g.scale, level_of(v, g), g.levels);
        b.grid = ValueGrid::levels;
        b.scale = g.scale;
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
