// libFuzzer target for the push decoder: whatever the bytes, decode() either throws rnn::Error or
// returns a message that fits the layout, re-encodes, and decodes back to the same entries.
// Half the inputs are raw bytes; the other half build a valid push from a compressor (with its
// options, QSGD's bucket length among them) and an encoding chosen by the input, then flip bytes
// the input names, so the fuzzer starts deep inside well-formed messages instead of having to
// discover the format.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "compress/test_support.hpp"
#include "rnn/compress/codec.hpp"
#include "rnn/compress/registry.hpp"
#include "rnn/core/error.hpp"
#include "rnn/core/rng.hpp"

namespace {

// The compression tests' layout: every kind of tensor the codec and compressors treat differently.
const rnn::ParameterLayout& layout() {
  static const rnn::ParameterLayout l = rnn::test::small_layout();
  return l;
}

bool same_entries(const rnn::Message& a, const rnn::Message& b) {
  if (a.blocks.size() != b.blocks.size() || a.worker != b.worker || a.base_version != b.base_version) return false;
  for (std::size_t j = 0; j < a.blocks.size(); ++j) {
    const auto& x = a.blocks[j];
    const auto& y = b.blocks[j];
    if (x.segment != y.segment || x.dense != y.dense || x.indices != y.indices || x.values != y.values) return false;
  }
  return true;
}

void check_decode(std::span<const std::uint8_t> bytes) {
  rnn::Message decoded;
  rnn::CodecOptions seen;
  try {
    seen = rnn::decode(bytes, layout(), decoded);
  } catch (const rnn::Error&) {
    return;
  }
  // Accepted: it must be a valid message, and a second trip through the codec must not change it.
  std::vector<std::uint8_t> again;
  rnn::encode(decoded, layout(), seen, again);
  rnn::Message twice;
  rnn::decode(again, layout(), twice);
  if (!same_entries(decoded, twice)) __builtin_trap();
}

std::vector<std::uint8_t> valid_push(const std::uint8_t* data, std::size_t size) {
  const auto& names = rnn::compressor_names();
  rnn::CompressorOptions options;
  options.name = names[data[0] % names.size()];
  options.ratio = 0.02 + 0.3 * (data[1] / 255.0);
  options.threshold = 0.5 * (data[1] / 255.0);
  options.levels = 1U + data[2] % 16U;
  // Bucketed grids (one scale per bucket of 1 … 76 entries) in three pushes of four.
  options.bucket = (data[6] >> 6U) == 0 ? 0U : 1U + (data[2] >> 4U) * 5U;
  options.clip_stddev = (data[6] >> 6U) == 1 ? 0.0 : 2.5;
  rnn::CodecOptions codec;
  codec.indices = static_cast<rnn::IndexEncoding>(data[3] & 1U);
  codec.values = static_cast<rnn::ValueEncoding>((data[3] >> 1U) & 3U);
  codec.levels = 1U + data[4];
  auto compressor = rnn::make_compressor(options, layout());
  rnn::Rng rng(size, data[5]);
  std::vector<float> gradient(layout().size());
  for (auto& g : gradient) g = rng.normal();
  rnn::Message message;
  compressor->compress(gradient, message);
  message.base_version = rng.next_u64() >> (data[6] % 64U);
  message.worker = static_cast<std::uint32_t>(rng.next_u64());
  std::vector<std::uint8_t> bytes;
  try {
    rnn::encode(message, layout(), codec, bytes);
  } catch (const rnn::Error&) {
    bytes.clear();  // a pairing the codec refuses (sign encoding of a quantiser's level grid)
  }
  return bytes;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  if ((data[0] & 1U) != 0) {
    check_decode({data + 1, size - 1});
    return 0;
  }
  if (size < 8) return 0;
  auto bytes = valid_push(data + 1, size);
  if (bytes.empty()) return 0;
  // The rest of the input: (position, xor mask) pairs, and a length to cut the message to.
  for (std::size_t p = 8; p + 1 < size; p += 2) bytes[data[p] * 257U % bytes.size()] ^= data[p + 1];
  if ((data[7] & 0x80U) != 0) bytes.resize(bytes.size() * (data[7] & 0x7FU) / 128U);
  check_decode(bytes);
  return 0;
}
