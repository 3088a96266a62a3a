#include "rnn/data/idx.hpp"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "rnn/core/error.hpp"

namespace rnn {
namespace fs = std::filesystem;

namespace {

// Far above any real IDX file (MNIST train images are 47 MB), yet small enough that a corrupt
// header can never make us allocate an absurd amount before the data is known to exist.
constexpr std::uint64_t kMaxDataBytes = std::uint64_t{1} << 31U;
constexpr std::uint8_t kTypeUnsignedByte = 0x08;
constexpr std::size_t kMaxDims = 4;
// Reads go in bounded chunks: gzread takes an unsigned and returns an int, and for gzip input
// the buffer only grows as decompressed data actually arrives.
constexpr std::size_t kChunkBytes = std::size_t{16} << 20U;
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
struct GzCloser {
  void operator()(gzFile_s* f) const { gzclose_r(f); }
};

// One input stream over either a raw file (stdio) or a gzip file (zlib). The two are told
// apart by content, so a misnamed file still reads correctly.
class Input {
 public:
  explicit Input(const fs::path& path) : path_(path) {
    std::error_code ec;
    if (fs::is_directory(path, ec)) fail(path, "is a directory, expected an IDX file");
    raw_.reset(std::fopen(path.c_str(), "rb"));
    if (!raw_) fail(path, "cannot open: {}", std::strerror(errno));

    std::array<unsigned char, 2> magic{};
    const std::size_t n = std::fread(magic.data(), 1, magic.size(), raw_.get());
    if (std::ferror(raw_.get())) fail(path, "read error: {}", std::strerror(errno));
    gzip_ = n == 2 && magic[0] == 0x1F && magic[1] == 0x8B;

    // The size lets read_idx weigh the header's promise against the file before allocating.
    size_ = fs::file_size(path, ec);
    if (ec) fail(path, "cannot determine file size: {}", ec.message());
    if (gzip_) {
      raw_.reset();
      gz_.reset(gzopen(path.c_str(), "rb"));
      if (!gz_) fail(path, "cannot open: {}", std::strerror(errno));
      gzbuffer(gz_.get(), 1U << 17U);  // larger than zlib's 8 KiB default: fewer syscalls
    } else if (std::fseek(raw_.get(), 0, SEEK_SET) != 0) {
      fail(path, "seek failed: {}", std::strerror(errno));
    }
  }

  [[nodiscard]] bool gzip() const { return gzip_; }
  // Size of the file on disk (compressed size for gzip input).
  [[nodiscard]] std::uint64_t file_size() const { return size_; }

  // Reads up to n bytes; returns fewer only at the end of the input. I/O errors and corrupt
  // compressed data throw instead of looking like a short file.
  std::size_t read(std::uint8_t* dst, std::size_t n) {
    std::size_t total = 0;
    while (total < n) {
      const std::size_t want = std::min(n - total, kChunkBytes);
      std::size_t got = 0;
      if (gzip_) {
        const int r = gzread(gz_.get(), dst + total, static_cast<unsigned>(want));
        check_gz();
        if (r < 0) fail(path_, "gzip read failed");
        got = static_cast<std::size_t>(r);
      } else {
        got = std::fread(dst + total, 1, want, raw_.get());
        if (std::ferror(raw_.get())) fail(path_, "read error: {}", std::strerror(errno));
      }
      total += got;
      if (got < want) break;
    }
    return total;
  }

 private:
  void check_gz() {
    int err = Z_OK;
    std::string_view msg = gzerror(gz_.get(), &err);
    if (err == Z_OK) return;
    // zlib prefixes its messages with the path, which fail() adds already.
    if (const std::string prefix = path_.string() + ": "; msg.starts_with(prefix)) msg.remove_prefix(prefix.size());
    // Z_BUF_ERROR is how zlib reports a compressed stream that stops mid-member.
    if (err == Z_BUF_ERROR) fail(path_, "truncated gzip stream ({})", msg);
    if (err == Z_ERRNO) fail(path_, "read error: {}", std::strerror(errno));
    fail(path_, "corrupt gzip stream: {}", msg);
  }

  fs::path path_;
  std::unique_ptr<std::FILE, FileCloser> raw_;
  std::unique_ptr<gzFile_s, GzCloser> gz_;
  bool gzip_ = false;
  std::uint64_t size_ = 0;
};

std::uint32_t load_be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24U) | (std::uint32_t{p[1]} << 16U) | (std::uint32_t{p[2]} << 8U) |
         std::uint32_t{p[3]};
}

void store_be32(std::uint8_t* p, std::uint32_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 24U);
  p[1] = static_cast<std::uint8_t>(v >> 16U);
  p[2] = static_cast<std::uint8_t>(v >> 8U);
  p[3] = static_cast<std::uint8_t>(v);
}

std::string dims_string(const std::vector<std::uint32_t>& dims) {
  return fmt::format("{}", fmt::join(dims, "x"));
}

}  // namespace

IdxArray read_idx(const fs::path& path) {
  Input in(path);
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

  if (!in.gzip()) {
    // The guard only matters if the file shrank after it was measured.
    const std::uint64_t available = in.file_size() > header_bytes ? in.file_size() - header_bytes : 0;
    if (available < expected) {
      fail(path, "truncated: header promises {} data bytes, file has {}", expected, available);
    }
    if (available > expected) {
      fail(path, "trailing bytes: header promises {} data bytes, file has {}", expected, available);
    }
    out.data.reserve(expected);
  } else {
    // The decompressed size is unknown until read, so the buffer grows with the data. The
    // first reservation uses deflate's maximum expansion (about 1032:1): enough for a genuine
    // file in one go, while a tiny file with a huge header costs only what it could contain.
    const std::uint64_t most_possible = in.file_size() * kMaxDeflateRatio;
    out.data.reserve(std::min(expected, most_possible));
  }

  while (out.data.size() < expected) {
    const std::size_t old = out.data.size();
    const std::size_t want = std::min<std::uint64_t>(expected - old, kChunkBytes);
    out.data.resize(old + want);
    got = in.read(out.data.data() + old, want);
    out.data.resize(old + got);
    if (got < want) {
      fail(path, "truncated: header promises {} data bytes, {} has {}", expected, source, out.data.size());
    }
  }
  // One more byte must hit the end; for gzip this also makes zlib verify the CRC trailer.
  std::uint8_t extra = 0;
  if (in.read(&extra, 1) != 0) {
    fail(path, "trailing bytes: header promises {} data bytes, {} has more", expected, source);
  }
  return out;
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

  // A fixed-size array (at most 4 dimensions) rather than a sized vector: GCC 12 misreads the
  // vector version as an overflow (-Wstringop-overflow).
  std::array<std::uint8_t, 4 + 4 * kMaxDims> header_bytes{};
  header_bytes[2] = kTypeUnsignedByte;
  header_bytes[3] = static_cast<std::uint8_t>(array.dims.size());
  for (std::size_t i = 0; i < array.dims.size(); ++i) store_be32(header_bytes.data() + 4 + 4 * i, array.dims[i]);
  const std::span<const std::uint8_t> header(header_bytes.data(), 4 + 4 * array.dims.size());

  // Writing under a temporary name and renaming means readers never see a half-written file,
  // and an interrupted write leaves any previous version intact.
  fs::path tmp = path;
  tmp += ".tmp";
  {
    std::unique_ptr<std::FILE, FileCloser> f(std::fopen(tmp.c_str(), "wb"));
    if (!f) fail(tmp, "cannot create: {}", std::strerror(errno));
    const bool ok =
        std::fwrite(header.data(), 1, header.size(), f.get()) == header.size() &&
        // An empty vector's data() may be null, which fwrite must not be given.
        (array.data.empty() || std::fwrite(array.data.data(), 1, array.data.size(), f.get()) == array.data.size()) &&
        std::fflush(f.get()) == 0;
    const int saved_errno = errno;
    // fclose can report a deferred write error, so its result matters too.
    const bool closed = std::fclose(f.release()) == 0;
    if (!ok || !closed) {
      std::error_code ignored;
      fs::remove(tmp, ignored);
      fail(tmp, "write failed: {}", std::strerror(ok ? errno : saved_errno));
    }
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    fail(path, "cannot rename {} into place: {}", tmp.string(), ec.message());
  }
}

}  // namespace rnn
