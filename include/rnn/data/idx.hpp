#pragma once
// Reader for the IDX format of MNIST and Fashion-MNIST, raw or gzip-compressed (by content,
// not by file name). Only unsigned-byte data (type 0x08) is accepted. Every malformed input
// (bad magic, wrong type, absurd dimensions, truncated data, trailing bytes) raises rnn::Error
// naming the file and the problem; nothing is read past what the header promises.
#include <cstdint>
#include <filesystem>
#include <vector>

namespace rnn {

struct IdxArray {
  std::vector<std::uint32_t> dims;  // e.g. {60000, 28, 28} or {60000}
  std::vector<std::uint8_t> data;   // product(dims) bytes
};

IdxArray read_idx(const std::filesystem::path& path);

// Writes an uncompressed IDX file (used by tests and tools); temporary name, then rename.
void write_idx(const std::filesystem::path& path, const IdxArray& array);

}  // namespace rnn
