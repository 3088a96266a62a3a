#include "rnn/data/idx.hpp"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <new>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "rnn/core/atomic_file.hpp"
#include "rnn/core/error.hpp"

namespace rnn {
namespace fs = std::filesystem;

namespace {

// Far above any real IDX file (MNIST train images are 47 MB), yet small enough that a corrupt
// header can never make us allocate an absurd amount before the data is known to exist.
constexpr std::uint64_t kMaxDataBytes = std::uint64_t{1} << 31U;
constexpr std::uint8_t kTypeUnsignedByte = 0x08;
constexpr std::size_t kMaxDims = 4;
// Reads go in bounded chunks, so the buffer only grows as data actually arrives.
constexpr std::size_t kChunkBytes = std::size_t{16} << 20U;
// deflate cannot expand data more than 1032:1 (zlib technical details, "Maximum compression").
constexpr std::uint64_t kMaxDeflateRatio = 1032;

template <typename... Args>
[[noreturn]] void fail(const fs::path& path, fmt::format_string<Args...> format, Args&&... args) {
  throw Error(path.string() + ": " + fmt::format(format, std::forward<Args>(args)...));
}

std::string_view idx_type_name(std::uint8_t type) {
  switch (type) {
    case 0x08: return "unsigned byte";
    case 0x09: return "signed byte";
    case 0x0B: return "int16";
    case 0x0C: return "int32";
    case 0x0D: return "float32";
    case 0x0E: return "float64";
    default: return "not an IDX type";
  }
}

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

// The gzip members of a file, inflated one after another (as gunzip does with concatenated
// members). zlib checks each member's CRC-32 and length trailer when it reaches Z_STREAM_END; the
// input must end exactly after a member, so a file cut anywhere (also inside a trailer) or
// followed by anything that is not another member is refused.
class GzipStream {
 public:
  GzipStream(std::FILE* file, const fs::path& path) : file_(file), path_(path), input_(kInputBytes) {
    if (inflateInit2(&z_, 16 + MAX_WBITS) != Z_OK) fail(path_, "cannot start gzip decoding: out of memory");
  }
  ~GzipStream() { inflateEnd(&z_); }
  GzipStream(const GzipStream&) = delete;
  GzipStream& operator=(const GzipStream&) = delete;
  GzipStream(GzipStream&&) = delete;
  GzipStream& operator=(GzipStream&&) = delete;

  std::size_t read(std::uint8_t* dst, std::size_t n) {
    std::size_t total = 0;
    while (total < n && !finished_) {
      // At the end of the file avail_in stays 0; inflate may still finish from what it holds.
      if (z_.avail_in == 0) fill();
      const std::size_t want = std::min<std::size_t>(n - total, UINT_MAX);
      z_.next_out = dst + total;
      z_.avail_out = static_cast<uInt>(want);
      const int rc = inflate(&z_, Z_NO_FLUSH);
      total += want - z_.avail_out;
      if (rc == Z_STREAM_END) {
        next_member();
      } else if (rc == Z_BUF_ERROR && z_.avail_in == 0) {
        fail(path_, "truncated gzip stream: the file ends inside compressed data or its CRC-32/length trailer");
      } else if (rc == Z_MEM_ERROR) {
        throw std::bad_alloc();
      } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
        fail(path_, "corrupt gzip stream: {}", z_.msg != nullptr ? z_.msg : "invalid data");
      }
    }
    return total;
  }

 private:
  static constexpr std::size_t kInputBytes = std::size_t{1} << 17U;

  // Moves unread input to the front and reads more after it; returns the bytes now available.
  std::size_t fill() {
    if (z_.avail_in > 0 && z_.next_in != input_.data()) std::memmove(input_.data(), z_.next_in, z_.avail_in);
    const std::size_t got = std::fread(input_.data() + z_.avail_in, 1, input_.size() - z_.avail_in, file_);
    if (std::ferror(file_)) fail(path_, "read error: {}", std::strerror(errno));
    z_.next_in = input_.data();
    z_.avail_in += static_cast<uInt>(got);
    return z_.avail_in;
  }

  // After a member's verified trailer: the end of the file, or the next member's magic.
  void next_member() {
    if (z_.avail_in < 2) fill();
    if (z_.avail_in == 0) {
      finished_ = true;
      return;
    }
    if (z_.avail_in < 2 || z_.next_in[0] != 0x1F || z_.next_in[1] != 0x8B) {
      fail(path_, "trailing bytes after the gzip data (not another gzip member)");
    }
    if (inflateReset(&z_) != Z_OK) fail(path_, "cannot restart gzip decoding");
  }

  std::FILE* file_;
  const fs::path& path_;
  std::vector<std::uint8_t> input_;
  z_stream z_{};
  bool finished_ = false;
};

// One input stream over either a raw file or a gzip file. The two are told apart by content, so a
// misnamed file still reads correctly.
class Input {
 public:
  explicit Input(const fs::path& path) : path_(path) {
    std::error_code ec;
    if (fs::is_directory(path, ec)) fail(path, "is a directory, expected an IDX file");
    file_.reset(std::fopen(path.c_str(), "rb"));
    if (!file_) fail(path, "cannot open: {}", std::strerror(errno));

    std::array<unsigned char, 2> magic{};
    const std::size_t n = std::fread(magic.data(), 1, magic.size(), file_.get());
    if (std::ferror(file_.get())) fail(path, "read error: {}", std::strerror(errno));
    if (std::fseek(file_.get(), 0, SEEK_SET) != 0) fail(path, "seek failed: {}", std::strerror(errno));

    // The size lets read_idx weigh the header's promise against the file before allocating.
    size_ = fs::file_size(path, ec);
    if (ec) fail(path, "cannot determine file size: {}", ec.message());
    if (n == 2 && magic[0] == 0x1F && magic[1] == 0x8B) gzip_ = std::make_unique<GzipStream>(file_.get(), path_);
  }

  [[nodiscard]] bool gzip() const { return gzip_ != nullptr; }
  // Size of the file on disk (compressed size for gzip input).
  [[nodiscard]] std::uint64_t file_size() const { return size_; }

  // Reads up to n bytes; returns fewer only at the end of the input. I/O errors and corrupt
  // compressed data throw instead of looking like a short file.
  std::size_t read(std::uint8_t* dst, std::size_t n) {
    if (gzip_) return gzip_->read(dst, n);
    const std::size_t got = std::fread(dst, 1, n, file_.get());
    if (std::ferror(file_.get())) fail(path_, "read error: {}", std::strerror(errno));
    return got;
  }

  // Reads and discards n bytes; returns how many there were.
  std::uint64_t skip(std::uint64_t n) {
    std::array<std::uint8_t, std::size_t{1} << 16U> scratch{};
    std::uint64_t skipped = 0;
    while (skipped < n) {
      const std::size_t want = std::min<std::uint64_t>(n - skipped, scratch.size());
      const std::size_t got = read(scratch.data(), want);
      skipped += got;
      if (got < want) break;
    }
    return skipped;
  }

 private:
  fs::path path_;
  std::unique_ptr<std::FILE, FileCloser> file_;
  std::unique_ptr<GzipStream> gzip_;
  std::uint64_t size_ = 0;
};

std::uint32_t load_be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24U) | (std::uint32_t{p[1]} << 16U) | (std::uint32_t{p[2]} << 8U) |
         std::uint32_t{p[3]};
}

std::string dims_string(const std::vector<std::uint32_t>& dims) {
  return fmt::format("{}", fmt::join(dims, "x"));
}

}  // namespace

namespace {

IdxArray read_idx_from(Input& in, const fs::path& path, std::size_t max_items) {
  const std::string_view source = in.gzip() ? "decompressed gzip stream" : "file";

  std::array<std::uint8_t, 4 + 4 * kMaxDims> header{};
  std::size_t got = in.read(header.data(), 4);
  if (got < 4) fail(path, "truncated header: {} has {} of at least 4 header bytes", source, got);
  if (header[0] != 0 || header[1] != 0) {
    fail(path, "not an IDX file: first bytes are 0x{:02X} 0x{:02X}, expected 0x00 0x00", header[0], header[1]);
  }
  const std::uint8_t type = header[2];
  if (type != kTypeUnsignedByte) {
    fail(path, "unsupported IDX data type 0x{:02X} ({}): only 0x08 (unsigned byte) is supported", type,
         idx_type_name(type));
  }
  const std::size_t ndims = header[3];
  if (ndims == 0 || ndims > kMaxDims) {
    fail(path, "IDX header declares {} dimensions: expected 1 to {}", ndims, kMaxDims);
  }
  const std::size_t header_bytes = 4 + 4 * ndims;
  got = in.read(header.data() + 4, 4 * ndims);
  if (got < 4 * ndims) {
    fail(path, "truncated header: {} has {} of {} header bytes", source, 4 + got, header_bytes);
  }

  IdxArray out;
  out.dims.resize(ndims);
  for (std::size_t i = 0; i < ndims; ++i) out.dims[i] = load_be32(header.data() + 4 + 4 * i);
  std::uint64_t expected = 1;
  for (const std::uint32_t d : out.dims) {
    // Checking after every factor keeps the running product below 2^63: no overflow.
    expected *= d;
    if (expected > kMaxDataBytes) {
      fail(path, "IDX dimensions {} are absurd: more than {} data bytes", dims_string(out.dims), kMaxDataBytes);
    }
  }

  // What the file can hold, before anything is allocated: exactly its size for a raw file, at
  // most deflate's maximum expansion of its size for a gzip file.
  if (!in.gzip()) {
    const std::uint64_t available = in.file_size() > header_bytes ? in.file_size() - header_bytes : 0;
    if (available < expected) {
      fail(path, "truncated: header promises {} data bytes, file has {}", expected, available);
    }
    if (available > expected) {
      fail(path, "trailing bytes: header promises {} data bytes, file has {}", expected, available);
    }
  } else if (header_bytes + expected > in.file_size() * kMaxDeflateRatio) {
    fail(path, "truncated: header promises {} data bytes, more than a gzip file of {} bytes can hold ({}:1 at most)",
         expected, in.file_size(), kMaxDeflateRatio);
  }

  // The first max_items items (along the first dimension) are kept; the rest is read and checked
  // but not stored.
  const std::uint64_t item_bytes = out.dims[0] == 0 ? 0 : expected / out.dims[0];
  const std::uint64_t kept = std::min<std::uint64_t>(out.dims[0], max_items) * item_bytes;
  out.data.reserve(kept);
  while (out.data.size() < kept) {
    const std::size_t old = out.data.size();
    const std::size_t want = std::min<std::uint64_t>(kept - old, kChunkBytes);
    out.data.resize(old + want);
    got = in.read(out.data.data() + old, want);
    out.data.resize(old + got);
    if (got < want) {
      fail(path, "truncated: header promises {} data bytes, {} has {}", expected, source, out.data.size());
    }
  }
  if (const std::uint64_t rest = in.skip(expected - kept); rest < expected - kept) {
    fail(path, "truncated: header promises {} data bytes, {} has {}", expected, source, kept + rest);
  }
  // One more byte must hit the end; for gzip this also makes zlib verify the CRC trailer.
  std::uint8_t extra = 0;
  if (in.read(&extra, 1) != 0) {
    fail(path, "trailing bytes: header promises {} data bytes, {} has more", expected, source);
  }
  return out;
}

}  // namespace

IdxArray read_idx(const fs::path& path, std::size_t max_items) {
  try {
    Input in(path);
    return read_idx_from(in, path, max_items);
  } catch (const std::bad_alloc&) {
    fail(path, "not enough memory to load this file");
  }
}

void write_idx(const fs::path& path, const IdxArray& array) {
  if (array.dims.empty() || array.dims.size() > kMaxDims) {
    fail(path, "cannot write IDX with {} dimensions: expected 1 to {}", array.dims.size(), kMaxDims);
  }
  std::uint64_t expected = 1;
  for (const std::uint32_t d : array.dims) {
    expected *= d;
    if (expected > kMaxDataBytes) fail(path, "cannot write IDX: dimensions {} too large", dims_string(array.dims));
  }
  if (expected != array.data.size()) {
    fail(path, "cannot write IDX: dimensions {} need {} bytes, data has {}", dims_string(array.dims), expected,
         array.data.size());
  }

  // The IDX header is big-endian (the MNIST convention), unlike the project's own formats.
  std::vector<std::uint8_t> bytes = {0, 0, kTypeUnsignedByte, static_cast<std::uint8_t>(array.dims.size())};
  bytes.reserve(4 + 4 * array.dims.size() + array.data.size());
  for (const std::uint32_t d : array.dims) {
    for (unsigned shift = 24;; shift -= 8) {
      bytes.push_back(static_cast<std::uint8_t>(d >> shift));
      if (shift == 0) break;
    }
  }
  bytes.insert(bytes.end(), array.data.begin(), array.data.end());
  write_file_atomically(path, bytes);
}

}  // namespace rnn
