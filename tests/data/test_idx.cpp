// IDX reader/writer: round trips (raw and gzip) and every malformed input the reader must
// refuse with an rnn::Error naming the file. All files are generated here, in a temp dir.
#include <doctest/doctest.h>
#include <sys/resource.h>
#include <zlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "rnn/core/error.hpp"
#include "rnn/data/idx.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;
using Bytes = std::vector<std::uint8_t>;

namespace {

using rnn::test::TempDir;

void write_bytes(const fs::path& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out.good());
}

Bytes read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_gz(const fs::path& path, const Bytes& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  REQUIRE(f != nullptr);
  if (!bytes.empty()) {
    REQUIRE(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())) == static_cast<int>(bytes.size()));
  }
  REQUIRE(gzclose(f) == Z_OK);
}

// An IDX header (type byte and dims as given) followed by `data_bytes` bytes 0, 1, 2, ...
Bytes idx_bytes(std::uint8_t type, const std::vector<std::uint32_t>& dims, std::size_t data_bytes) {
  Bytes b = {0, 0, type, static_cast<std::uint8_t>(dims.size())};
  for (const std::uint32_t d : dims) {
    for (int shift = 24; shift >= 0; shift -= 8) b.push_back(static_cast<std::uint8_t>(d >> shift));
  }
  for (std::size_t i = 0; i < data_bytes; ++i) b.push_back(static_cast<std::uint8_t>(i));
  return b;
}

// The message of the rnn::Error that reading `path` throws ("" if none is thrown).
std::string read_error(const fs::path& path) {
  try {
    (void)rnn::read_idx(path);
  } catch (const rnn::Error& e) {
    return e.what();
  }
  return {};
}

// Asserts read_idx refuses `path` with an rnn::Error whose message names the file and
// contains `fragment`.
void check_refused(const fs::path& path, const std::string& fragment) {
  CHECK_THROWS_AS((void)rnn::read_idx(path), rnn::Error);
  const std::string msg = read_error(path);
  INFO("message: ", msg);
  CHECK(msg.find(path.filename().string()) != std::string::npos);
  CHECK(msg.find(fragment) != std::string::npos);
}

}  // namespace

TEST_CASE("idx: raw round trip of 1-D, 3-D and 4-D arrays") {
  TempDir tmp;
  for (const std::vector<std::uint32_t>& dims : {std::vector<std::uint32_t>{7}, {3, 2, 4}, {2, 1, 3, 2}, {0, 28, 28}}) {
    rnn::IdxArray a;
    a.dims = dims;
    std::size_t n = 1;
    for (const auto d : dims) n *= d;
    for (std::size_t i = 0; i < n; ++i) a.data.push_back(static_cast<std::uint8_t>(i * 37 + 1));
    const fs::path p = tmp / "a.idx";
    rnn::write_idx(p, a);
    CHECK_FALSE(fs::exists(tmp / "a.idx.tmp"));
    CHECK(fs::file_size(p) == 4 + 4 * dims.size() + n);
    const rnn::IdxArray b = rnn::read_idx(p);
    CHECK(b.dims == a.dims);
    CHECK(b.data == a.data);
  }
}

TEST_CASE("idx: header layout is big-endian as in the MNIST files") {
  TempDir tmp;
  const fs::path p = tmp / "labels";
  rnn::write_idx(p, rnn::IdxArray{{260}, Bytes(260, 9)});
  const Bytes b = read_bytes(p);
  REQUIRE(b.size() == 8 + 260);
  CHECK(Bytes(b.begin(), b.begin() + 8) == Bytes{0, 0, 0x08, 1, 0, 0, 0x01, 0x04});
}

TEST_CASE("idx: write_idx replaces an existing file") {
  TempDir tmp;
  const fs::path p = tmp / "x";
  rnn::write_idx(p, rnn::IdxArray{{2}, {1, 2}});
  rnn::write_idx(p, rnn::IdxArray{{3}, {4, 5, 6}});
  CHECK(rnn::read_idx(p).data == Bytes{4, 5, 6});
}

TEST_CASE("idx: write_idx refuses data that does not match its dims") {
  TempDir tmp;
  const fs::path p = tmp / "bad-write";
  CHECK_THROWS_AS(rnn::write_idx(p, rnn::IdxArray{{2, 3}, Bytes(5)}), rnn::Error);
  CHECK_THROWS_AS(rnn::write_idx(p, rnn::IdxArray{{}, Bytes{}}), rnn::Error);
  CHECK_THROWS_AS(rnn::write_idx(p, rnn::IdxArray{{1, 1, 1, 1, 1}, Bytes(1)}), rnn::Error);
  CHECK_FALSE(fs::exists(p));
  CHECK_FALSE(fs::exists(tmp / "bad-write.tmp"));
}

TEST_CASE("idx: gzip input is detected by content, with or without .gz") {
  TempDir tmp;
  const Bytes content = idx_bytes(0x08, {4, 3, 5}, 60);
  for (const char* name : {"images.gz", "images-no-suffix"}) {
    const fs::path p = tmp / name;
    write_gz(p, content);
    const rnn::IdxArray a = rnn::read_idx(p);
    CHECK(a.dims == std::vector<std::uint32_t>{4, 3, 5});
    CHECK(a.data == Bytes(content.begin() + 16, content.end()));
  }
  // And a raw file named .gz is still read as raw.
  const fs::path raw = tmp / "raw-but-named.gz";
  write_bytes(raw, content);
  CHECK(rnn::read_idx(raw).data.size() == 60);
}

TEST_CASE("idx: malformed headers are refused") {
  TempDir tmp;
  SUBCASE("bad magic") {
    Bytes b = idx_bytes(0x08, {3}, 3);
    b[0] = 0x12;
    write_bytes(tmp / "bad-magic", b);
    check_refused(tmp / "bad-magic", "not an IDX file");
  }
  SUBCASE("float data type 0x0D") {
    write_bytes(tmp / "float-type", idx_bytes(0x0D, {3}, 12));
    check_refused(tmp / "float-type", "0x0D");
  }
  SUBCASE("zero dimensions") {
    write_bytes(tmp / "zero-dims", idx_bytes(0x08, {}, 0));
    check_refused(tmp / "zero-dims", "0 dimensions");
  }
  SUBCASE("five dimensions") {
    write_bytes(tmp / "five-dims", idx_bytes(0x08, {1, 1, 1, 1, 1}, 1));
    check_refused(tmp / "five-dims", "5 dimensions");
  }
  SUBCASE("truncated inside the dims") {
    Bytes b = idx_bytes(0x08, {60000, 28, 28}, 0);
    b.resize(9);
    write_bytes(tmp / "short-header", b);
    check_refused(tmp / "short-header", "truncated header");
  }
  SUBCASE("empty file") {
    write_bytes(tmp / "empty", {});
    check_refused(tmp / "empty", "truncated header");
  }
  SUBCASE("dimensions too large to be real, without allocating them") {
    write_bytes(tmp / "absurd", idx_bytes(0x08, {0xFFFFFFFFU, 0xFFFFFFFFU, 0xFFFFFFFFU, 0xFFFFFFFFU}, 4));
    check_refused(tmp / "absurd", "absurd");
    write_bytes(tmp / "absurd2", idx_bytes(0x08, {65536, 65536}, 4));
    check_refused(tmp / "absurd2", "absurd");
  }
  SUBCASE("malformed gzip content too") {
    write_gz(tmp / "gz-float.gz", idx_bytes(0x0D, {3}, 12));
    check_refused(tmp / "gz-float.gz", "0x0D");
    write_gz(tmp / "gz-empty.gz", {});
    check_refused(tmp / "gz-empty.gz", "truncated header");
  }
}

TEST_CASE("idx: data size must match the header exactly") {
  TempDir tmp;
  SUBCASE("truncated raw data names both sizes") {
    const fs::path p = tmp / "train-images-idx3-ubyte";
    write_bytes(p, idx_bytes(0x08, {60000, 28, 28}, 1000));
    check_refused(p, "truncated: header promises 47040000 data bytes, file has 1000");
  }
  SUBCASE("trailing raw bytes") {
    write_bytes(tmp / "trailing", idx_bytes(0x08, {2, 2}, 5));
    check_refused(tmp / "trailing", "trailing bytes");
  }
  SUBCASE("truncated gzip content (complete gzip stream, short IDX data)") {
    write_gz(tmp / "short.gz", idx_bytes(0x08, {10, 10}, 99));
    check_refused(tmp / "short.gz", "truncated: header promises 100 data bytes");
  }
  SUBCASE("trailing bytes inside gzip content") {
    write_gz(tmp / "long.gz", idx_bytes(0x08, {10, 10}, 101));
    check_refused(tmp / "long.gz", "trailing bytes");
  }
  SUBCASE("gzip file cut short mid-stream") {
    write_gz(tmp / "cut.gz", idx_bytes(0x08, {100, 100}, 10000));
    Bytes b = read_bytes(tmp / "cut.gz");
    b.resize(b.size() / 2);
    write_bytes(tmp / "cut.gz", b);
    check_refused(tmp / "cut.gz", "truncated");
  }
  SUBCASE("huge header over tiny gzip content stays cheap") {
    write_gz(tmp / "huge.gz", idx_bytes(0x08, {60000, 28, 28}, 10));
    check_refused(tmp / "huge.gz", "header promises 47040000 data bytes");
  }
}

TEST_CASE("idx: corrupt gzip streams are refused") {
  TempDir tmp;
  SUBCASE("valid gzip header, then garbage") {
    Bytes b = {0x1F, 0x8B, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03};
    for (int i = 0; i < 64; ++i) b.push_back(static_cast<std::uint8_t>(0xFF - i * 7));
    write_bytes(tmp / "garbage.gz", b);
    check_refused(tmp / "garbage.gz", "gzip");
  }
  SUBCASE("CRC trailer mismatch") {
    write_gz(tmp / "crc.gz", idx_bytes(0x08, {8}, 8));
    Bytes b = read_bytes(tmp / "crc.gz");
    b[b.size() - 8] ^= 0xFFU;  // first byte of the CRC-32 in the 8-byte trailer
    write_bytes(tmp / "crc.gz", b);
    check_refused(tmp / "crc.gz", "gzip");
  }
}

TEST_CASE("idx: missing file and directory are refused") {
  TempDir tmp;
  check_refused(tmp / "does-not-exist", "cannot open");
  fs::create_directory(tmp / "a-directory");
  check_refused(tmp / "a-directory", "directory");
}

namespace {

// A gzip member holding `bytes`, made with zlib's deflate (gzip wrapper, windowBits 16 + 15).
Bytes gzip_member(const Bytes& bytes, int level = Z_DEFAULT_COMPRESSION) {
  z_stream z{};
  REQUIRE(deflateInit2(&z, level, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  Bytes out(deflateBound(&z, static_cast<uLong>(bytes.size())));
  z.next_in = const_cast<Bytef*>(bytes.data());
  z.avail_in = static_cast<uInt>(bytes.size());
  z.next_out = out.data();
  z.avail_out = static_cast<uInt>(out.size());
  REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

Bytes concat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// Whether read_idx refuses the file, or else returns exactly `data`.
bool refused_or_exact(const fs::path& path, const Bytes& data) {
  try {
    return rnn::read_idx(path).data == data;
  } catch (const rnn::Error&) {
    return true;
  }
}

}  // namespace

// An IDX file of `count` 28 x 28 images of pseudo-random pixels: incompressible, so that with
// 1000 images the gzip file (784 KB) spans many reads and the decoder's buffers.
Bytes noisy_images(std::uint32_t count) {
  Bytes b = idx_bytes(0x08, {count, 28, 28}, 0);
  std::uint32_t state = 12345;
  for (std::size_t i = 0; i < std::size_t{count} * 784; ++i) {
    state = state * 1664525U + 1013904223U;
    b.push_back(static_cast<std::uint8_t>(state >> 24U));
  }
  return b;
}

TEST_CASE("idx: a gzip file missing any of its last 1 to 9 bytes is refused") {
  TempDir tmp;
  for (const Bytes& content : {idx_bytes(0x08, {50, 4, 4}, 800), noisy_images(1000)}) {
    const Bytes member = gzip_member(content);
    for (std::size_t cut = 1; cut <= 9; ++cut) {
      CAPTURE(member.size());
      CAPTURE(cut);
      write_bytes(tmp / "cut.gz", Bytes(member.begin(), member.end() - static_cast<std::ptrdiff_t>(cut)));
      check_refused(tmp / "cut.gz", "truncated gzip stream");
    }
  }
}

TEST_CASE("idx: no flipped bit in a gzip file changes the pixels silently") {
  TempDir tmp;
  SUBCASE("every bit of a small file, whole or without its trailer") {
    const Bytes content = idx_bytes(0x08, {20, 4, 4}, 320);
    const Bytes data(content.begin() + 16, content.end());
    const Bytes member = gzip_member(content);
    // Every bit of the compressed data and the trailer (the gzip header's time stamp and OS
    // bytes carry no data).
    for (const std::size_t keep : {member.size(), member.size() - 8}) {
      const fs::path p = tmp / ("flip-" + std::to_string(keep) + ".gz");
      write_bytes(p, Bytes(keep));
      // Rewritten in place: truncating a file a thousand times is slow on some file systems.
      std::fstream file(p, std::ios::binary | std::ios::in | std::ios::out);
      for (std::size_t byte = 10; byte < keep; ++byte) {
        for (unsigned bit = 0; bit < 8; ++bit) {
          Bytes b(member.begin(), member.begin() + static_cast<std::ptrdiff_t>(keep));
          b[byte] ^= static_cast<std::uint8_t>(1U << bit);
          file.seekp(0);
          file.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
          file.flush();
          REQUIRE(file.good());
          INFO("keep ", keep, " byte ", byte, " bit ", bit);
          CHECK(refused_or_exact(p, data));
        }
      }
    }
  }
  SUBCASE("bits of a large file without its trailer") {
    const Bytes member = gzip_member(noisy_images(1000));
    const Bytes cut(member.begin(), member.end() - 8);
    const fs::path p = tmp / "flip-large.gz";
    write_bytes(p, cut);
    std::fstream file(p, std::ios::binary | std::ios::in | std::ios::out);
    for (std::size_t byte = 1000; byte < cut.size(); byte += cut.size() / 40) {
      Bytes b = cut;
      b[byte] ^= 0x10U;
      file.seekp(0);
      file.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
      file.flush();
      REQUIRE(file.good());
      CAPTURE(byte);
      CHECK_THROWS_AS((void)rnn::read_idx(p), rnn::Error);
    }
  }
}

TEST_CASE("idx: concatenated gzip members are read in order; anything else after the data is refused") {
  TempDir tmp;
  const Bytes content = idx_bytes(0x08, {6, 5}, 30);
  const Bytes first(content.begin(), content.begin() + 20);
  const Bytes second(content.begin() + 20, content.end());
  write_bytes(tmp / "two.gz", concat(gzip_member(first), gzip_member(second)));
  CHECK(rnn::read_idx(tmp / "two.gz").data == Bytes(content.begin() + 12, content.end()));

  write_bytes(tmp / "garbage.gz", concat(gzip_member(content), Bytes{'j', 'u', 'n', 'k'}));
  check_refused(tmp / "garbage.gz", "trailing bytes after the gzip data");
  write_bytes(tmp / "zeros.gz", concat(gzip_member(content), Bytes(16, 0)));
  check_refused(tmp / "zeros.gz", "trailing bytes after the gzip data");
  write_bytes(tmp / "one.gz", concat(gzip_member(content), Bytes{0x1F}));
  check_refused(tmp / "one.gz", "trailing bytes after the gzip data");
  // A second member cut short is as truncated as a first one.
  const Bytes whole = gzip_member(second);
  write_bytes(tmp / "cut2.gz", concat(gzip_member(first), Bytes(whole.begin(), whole.end() - 3)));
  check_refused(tmp / "cut2.gz", "truncated gzip stream");
}

TEST_CASE("idx: a gzip header promising more than the file can expand to fails before allocating") {
  TempDir tmp;
  // 1 M images of 28 x 28 need 784 MB, far more than 1032 times this file.
  const fs::path p = tmp / "train-images-idx3-ubyte.gz";
  write_bytes(p, gzip_member(idx_bytes(0x08, {1000000, 28, 28}, 5000)));
  check_refused(p, "more than a gzip file of");
}

TEST_CASE("idx: max_items keeps the first items and still checks the whole file") {
  TempDir tmp;
  const Bytes content = idx_bytes(0x08, {100, 2, 3}, 600);
  for (const bool gz : {false, true}) {
    const fs::path p = tmp / (gz ? "a.gz" : "a");
    write_bytes(p, gz ? gzip_member(content) : content);
    const rnn::IdxArray a = rnn::read_idx(p, 10);
    CHECK(a.dims == std::vector<std::uint32_t>{100, 2, 3});
    CHECK(a.data == Bytes(content.begin() + 16, content.begin() + 16 + 60));
    CHECK(rnn::read_idx(p, 1000).data.size() == 600);
    CHECK(rnn::read_idx(p, 0).data.empty());
  }
  const Bytes member = gzip_member(content);
  write_bytes(tmp / "cut.gz", Bytes(member.begin(), member.end() - 4));
  CHECK_THROWS_AS((void)rnn::read_idx(tmp / "cut.gz", 10), rnn::Error);
  write_bytes(tmp / "short.gz", gzip_member(Bytes(content.begin(), content.end() - 1)));
  check_refused(tmp / "short.gz", "truncated");
  CHECK_THROWS_AS((void)rnn::read_idx(tmp / "short.gz", 10), rnn::Error);
}

// Sanitizers reserve terabytes of address space and abort (not throw) when their own allocator runs
// out, so an address-space limit cannot be tested under them. GCC names them __SANITIZE_*__, clang
// through __has_feature.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define RNNL_TEST_UNDER_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define RNNL_TEST_UNDER_SANITIZER 1
#endif
#endif

#ifndef RNNL_TEST_UNDER_SANITIZER
TEST_CASE("idx: running out of memory is an error naming the file, and max_items avoids it") {
  TempDir tmp;
  // 300 000 images of zeros: 235 MB of data in a gzip file of about 240 KB (one member per MB).
  const std::size_t images = 300000;
  const Bytes zeros_member = gzip_member(Bytes(1 << 20, 0), 9);
  Bytes file = gzip_member(idx_bytes(0x08, {static_cast<std::uint32_t>(images), 28, 28}, 0));
  std::size_t data = 0;
  for (; data + (1 << 20) <= images * 784; data += 1 << 20)
    file.insert(file.end(), zeros_member.begin(), zeros_member.end());
  file = concat(file, gzip_member(Bytes(images * 784 - data, 0), 9));
  const fs::path p = tmp / "train-images-idx3-ubyte.gz";
  write_bytes(p, file);

  // Address space for what the process uses now plus 64 MB: the 235 MB buffer cannot fit.
  std::ifstream status("/proc/self/status");
  std::uint64_t vm_kb = 0;
  for (std::string key; status >> key;) {
    if (key == "VmSize:") {
      status >> vm_kb;
      break;
    }
  }
  REQUIRE(vm_kb > 0);
  rlimit saved{};
  getrlimit(RLIMIT_AS, &saved);
  rlimit limit = saved;
  limit.rlim_cur = static_cast<rlim_t>((vm_kb << 10U) + (std::uint64_t{64} << 20U));
  setrlimit(RLIMIT_AS, &limit);
  const std::string message = read_error(p);
  std::size_t kept = 0;
  try {
    kept = rnn::read_idx(p, 2000).data.size();
  } catch (const std::exception&) {
  }
  setrlimit(RLIMIT_AS, &saved);
  CHECK(message.find(p.string()) != std::string::npos);
  CHECK(message.find("not enough memory") != std::string::npos);
  CHECK(kept == 2000 * 784);
}
#endif
