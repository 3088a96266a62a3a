#pragma once
// Reader for the IDX format of MNIST and Fashion-MNIST, raw or gzip-compressed (by content,
// not by file name). Only unsigned-byte data (type 0x08) is accepted. Every malformed input
// (bad magic, wrong type, absurd dimensions, truncated data, trailing bytes) raises rnn::Error
// naming the file and the problem; nothing is read past what the header promises.
//
// gzip: every member's CRC-32 and length trailer is verified, the file must end exactly after a
// member (concatenated members are read one after another, as gunzip does; anything else after
// the data is refused), and a header promising more data than the compressed size can expand to
// (deflate's maximum ratio, 1032:1) is refused before any allocation. Running out of memory is
// reported as an rnn::Error naming the file.
#include <cstdint>
#include <filesystem>
#include <limits>
#include <vector>

namespace rnn {

struct IdxArray {
  std::vector<std::uint32_t> dims;  // as the file declares them, e.g. {60000, 28, 28} or {60000}
  std::vector<std::uint8_t> data;   // product(dims) bytes, or the first max_items items of them
};

// Keeps only the first max_items items (entries of the first dimension) in memory; the rest of
// the file is still read and checked, so a damaged file is refused whatever the limit.
IdxArray read_idx(const std::filesystem::path& path, std::size_t max_items = std::numeric_limits<std::size_t>::max());

// Writes an uncompressed IDX file (used by tests and tools) with write_file_atomically.
void write_idx(const std::filesystem::path& path, const IdxArray& array);

}  // namespace rnn
