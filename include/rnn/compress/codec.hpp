#pragma once
// The wire format of a push. Bytes counted anywhere in rnnl are the size of this encoding of a
// real message, which the receiving side decodes back.
//
// Format version 2 (little-endian; varint = LEB128):
//   u8 version = 2 | u8 encodings (low nibble: index encoding, high nibble: value encoding)
//   varint worker | varint base_version | varint block count
//   per block, in strictly increasing segment order:
//     varint segment | u8 flags (bit 0: dense)
//     sparse: varint count (1 … segment size), then the indices:
//       u32           4 bytes each
//       delta_varint  first index, then (index − previous − 1) for each next one
//     values (count of them; a dense block has one per entry of its segment):
//       f32           4 bytes each
//       f16           2 bytes each (IEEE binary16, nearest even, saturating at ±65504)
//       sign_scale    grid scales, then 1 bit per value (1 = negative): value j is ±scale(j)
//       levels        varint s (1 … 32767), grid scales, then (l + s) in ceil(log2(2s + 1)) bits
//                     per value: value j is scale(j) · l / s
//     grid scales: varint bucket b (0: one bucket for the whole block; else 1 … count − 1), then
//       one f32 scale per bucket (ceil(count / b) of them), each finite and ≥ +0; entry j uses
//       the scale of bucket j / b. One scale per bucket is what bucketed QSGD sends.
// Blocks with no entries are left out. Lossy encodings round values first: round_to_encoding
// gives exactly what the receiver will decode, so error-feedback memories can keep the true
// remainder.
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "rnn/compress/message.hpp"
#include "rnn/core/parameters.hpp"

namespace rnn {

enum class IndexEncoding : std::uint8_t { u32 = 0, delta_varint = 1 };
enum class ValueEncoding : std::uint8_t { f32 = 0, f16 = 1, sign_scale = 2, levels = 3 };

inline constexpr std::uint8_t codec_version = 2;
inline constexpr std::uint32_t max_levels = 32767;

struct CodecOptions {
  IndexEncoding indices = IndexEncoding::u32;
  ValueEncoding values = ValueEncoding::f32;
  // levels encoding of a block that is not already on a grid: s levels of the block's max |v|.
  std::uint32_t levels = 127;
};

[[nodiscard]] IndexEncoding parse_index_encoding(std::string_view name);  // "u32", "delta-varint"
[[nodiscard]] ValueEncoding parse_value_encoding(std::string_view name);  // "f32", "f16", "sign", "levels"
[[nodiscard]] std::string_view to_string(IndexEncoding e);
[[nodiscard]] std::string_view to_string(ValueEncoding e);

// Throws rnn::Error on an unknown encoding or levels outside 1 … max_levels.
void check_codec_options(const CodecOptions& options);

// Rounds every value to what the encoding carries (identity for f32). Idempotent. Throws
// rnn::Error, changing nothing, on invalid options or a block it cannot round: a non-finite
// value, or grid fields out of range (levels outside 1 … max_levels, scales not one finite
// non-negative value per bucket).
void round_to_encoding(Message& message, const CodecOptions& options);

// Writes the encoding of `message` into `out` (replacing its contents). Throws rnn::Error on a
// block that does not fit its segment, non-finite values, invalid grid fields or options, or a
// level-grid block
// (qsgd, terngrad) with the sign encoding, which cannot carry zeros. Values are rounded as by
// round_to_encoding; `message` itself is not changed.
void encode(const Message& message, const ParameterLayout& layout, const CodecOptions& options,
            std::vector<std::uint8_t>& out);

// Decodes into `out`, which then holds one block per tensor of the layout, in order (empty for
// tensors the push did not carry); its buffers are reused. Throws rnn::Error on anything
// malformed: truncation, trailing bytes, unknown version or encoding, segment out of range or out
// of order, index out of range or not increasing, counts beyond the segment, non-finite values
// or scales, a bucket not shorter than its block, non-zero padding; `out` is then unspecified.
// Returns the index and value encodings the message used (grids are per block, in the blocks).
CodecOptions decode(std::span<const std::uint8_t> bytes, const ParameterLayout& layout, Message& out);

// The worker id a push's header claims, read without decoding the rest (a server checks it
// against the sender's credentials before applying anything). Throws rnn::Error on a header that
// is truncated, of another version, or whose id is out of range.
[[nodiscard]] std::uint32_t peek_worker(std::span<const std::uint8_t> bytes);

}  // namespace rnn
