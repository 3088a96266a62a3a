#include <doctest/doctest.h>
#include <unistd.h>
#include <zlib.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include "rnn/core/error.hpp"
#include "rnn/models/model_file.hpp"
#include "support/file_limits.hpp"
#include "support/temp_dir.hpp"

namespace rnn {
namespace {

std::vector<char> read_all(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_all(const std::filesystem::path& p, const std::vector<char>& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string load_error(const std::filesystem::path& p) {
  try {
    load_model(p);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

// Bytes this process has read through read(2)/pread(2) so far (Linux /proc/self/io).
std::uint64_t bytes_read_so_far() {
  std::ifstream io("/proc/self/io");
  for (std::string key; io >> key;) {
    std::uint64_t value = 0;
    io >> value;
    if (key == "rchar:") return value;
  }
  FAIL("no rchar in /proc/self/io");
  return 0;
}

// Offsets of the option fields in a file of the model "mlp" (name length 3).
constexpr std::size_t kOutputScaleAt = 8 + 4 + 4 + 3;
constexpr std::size_t kDropoutAt = kOutputScaleAt + 4;
constexpr std::size_t kInitAt = kDropoutAt + 4;
constexpr std::size_t kGainAt = kInitAt + 1;
constexpr std::size_t kSeedInitAt = kGainAt + 4;

// A copy of `bytes` with `value` at `at` and the checksum made to match again, as a tool that
// edits a model file would leave it.
template <typename T>
std::vector<char> patched(std::vector<char> bytes, std::size_t at, T value) {
  std::memcpy(bytes.data() + at, &value, sizeof(T));  // the test host is little-endian, as the file
  const std::size_t body = bytes.size() - 4;
  const auto crc =
      static_cast<std::uint32_t>(crc32(0L, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(body)));
  std::memcpy(bytes.data() + body, &crc, 4);
  return bytes;
}

}  // namespace

TEST_CASE("model files round-trip exactly") {
  ModelOptions options;
  options.output_scale = 7.0F;
  options.rnl.gain = 1.5F;
  const auto model = make_model("rnl_hybrid", options);
  const auto params = model->initial_parameters(4);
  const test::TempDir tmp("rnnl-test-model-file");
  const auto path = tmp / "roundtrip.bin";
  save_model(path, *model, options, params);
  CHECK(test::entries_of(tmp.path()) == std::set<std::string>{"roundtrip.bin"});
  const LoadedModel loaded = load_model(path);
  CHECK(loaded.model->name() == "rnl_hybrid");
  CHECK(loaded.options.output_scale == 7.0F);
  CHECK(loaded.options.rnl.gain == 1.5F);
  CHECK(loaded.parameters == params);
}

TEST_CASE("corrupt, truncated and foreign model files are rejected with the file named") {
  const auto model = make_model("mlp");
  const auto params = model->initial_parameters(4);
  const test::TempDir tmp("rnnl-test-model-file");
  const auto good = tmp / "good.bin";
  save_model(good, *model, ModelOptions{}, params);
  const std::vector<char> bytes = read_all(good);
  const auto bad = tmp / "bad.bin";

  SUBCASE("flipped bit in the parameters") {
    auto b = bytes;
    b[b.size() / 2] = static_cast<char>(b[b.size() / 2] ^ 0x10);
    write_all(bad, b);
    CHECK(load_error(bad).find("checksum") != std::string::npos);
  }
  SUBCASE("truncated") {
    for (const std::size_t keep :
         {std::size_t{0}, std::size_t{5}, std::size_t{20}, bytes.size() / 2, bytes.size() - 1}) {
      write_all(bad, std::vector<char>(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(keep)));
      const std::string e = load_error(bad);
      CHECK_FALSE(e.empty());
      CHECK(e.find(bad.string()) != std::string::npos);
    }
  }
  SUBCASE("bad magic") {
    auto b = bytes;
    b[0] = 'X';
    write_all(bad, b);
    CHECK(load_error(bad).find("magic") != std::string::npos);
  }
  SUBCASE("future version") {
    auto b = bytes;
    b[8] = 9;
    write_all(bad, b);
    CHECK(load_error(bad).find("version 9") != std::string::npos);
  }
  SUBCASE("missing file") {
    const std::string e = load_error(tmp / "nope.bin");
    CHECK(contains(e, "nope.bin"));
    CHECK(contains(e, "No such file or directory"));
  }
  SUBCASE("every cut from 1 to 12 bytes short") {
    for (std::size_t cut = 1; cut <= 12; ++cut) {
      write_all(bad, std::vector<char>(bytes.begin(), bytes.end() - static_cast<std::ptrdiff_t>(cut)));
      CHECK(contains(load_error(bad), "truncated or extended"));
    }
  }
  SUBCASE("a directory") {
    std::filesystem::create_directory(tmp / "dir.bin");
    CHECK(contains(load_error(tmp / "dir.bin"), "not a regular file"));
  }
}

TEST_CASE("the model file layout is little-endian, byte for byte") {
  const auto model = make_model("mlp");
  std::vector<float> params(model->parameter_count(), 0.0F);
  params[0] = 1.0F;
  const test::TempDir tmp("rnnl-test-model-file");
  save_model(tmp / "m.bin", *model, ModelOptions{}, params);
  const std::vector<char> b = read_all(tmp / "m.bin");
  CHECK(std::string(b.data(), 8) == "RNNLMODL");
  CHECK(std::vector<char>(b.begin() + 8, b.begin() + 16) == std::vector<char>{1, 0, 0, 0, 3, 0, 0, 0});
  CHECK(std::string(b.data() + 16, 3) == "mlp");
  // output scale 5.0f = 0x40A00000
  CHECK(std::vector<char>(b.begin() + kOutputScaleAt, b.begin() + kOutputScaleAt + 4) ==
        std::vector<char>{0, 0, static_cast<char>(0xA0), 0x40});
  // The parameters end 4 bytes before the end; the first of them (1.0f = 0x3F800000) is where
  // the header says the parameters start.
  const std::size_t first = b.size() - 4 - 4 * params.size();
  CHECK(std::vector<char>(b.begin() + static_cast<std::ptrdiff_t>(first),
                          b.begin() + static_cast<std::ptrdiff_t>(first) + 4) ==
        std::vector<char>{0, 0, static_cast<char>(0x80), 0x3F});
}

TEST_CASE("a model file's header is checked against its size before the file is read") {
  const test::TempDir tmp("rnnl-test-model-file");
  constexpr std::uintmax_t kBig = std::uintmax_t{256} << 20U;  // sparse: costs no disk
  SUBCASE("a large file that is not a model") {
    { std::ofstream(tmp / "big.bin") << "not a model file"; }
    std::filesystem::resize_file(tmp / "big.bin", kBig);
    const auto before = bytes_read_so_far();
    CHECK(contains(load_error(tmp / "big.bin"), "bad magic"));
    CHECK(bytes_read_so_far() - before <= kMaxModelHeaderBytes + 4096);
  }
  SUBCASE("a model file with a large tail") {
    const auto model = make_model("mlp");
    save_model(tmp / "big.bin", *model, ModelOptions{}, model->initial_parameters(1));
    std::filesystem::resize_file(tmp / "big.bin", kBig);
    const auto before = bytes_read_so_far();
    CHECK(contains(load_error(tmp / "big.bin"), "truncated or extended"));
    CHECK(bytes_read_so_far() - before <= kMaxModelHeaderBytes + 4096);
  }
  SUBCASE("a header declaring more parameters than the file holds") {
    const auto model = make_model("mlp");
    save_model(tmp / "m.bin", *model, ModelOptions{}, model->initial_parameters(1));
    auto b = read_all(tmp / "m.bin");
    const std::size_t count_at = kSeedInitAt + 1;
    write_all(tmp / "m.bin", patched(b, count_at, std::numeric_limits<std::uint64_t>::max() / 2));
    CHECK(contains(load_error(tmp / "m.bin"), "truncated or extended"));
  }
}

TEST_CASE("model options are held to the command line's ranges even when the checksum matches") {
  const auto model = make_model("mlp");
  const test::TempDir tmp("rnnl-test-model-file");
  save_model(tmp / "good.bin", *model, ModelOptions{}, model->initial_parameters(1));
  const auto bytes = read_all(tmp / "good.bin");
  const auto bad = tmp / "bad.bin";
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();

  for (const float v : {nan, inf, 0.0F, -1.0F, 1e-4F, 1e4F}) {
    write_all(bad, patched(bytes, kOutputScaleAt, v));
    CHECK(contains(load_error(bad), "output scale"));
  }
  for (const float v : {nan, -0.1F, 0.96F, 1.0F, inf}) {
    write_all(bad, patched(bytes, kDropoutAt, v));
    CHECK(contains(load_error(bad), "dropout"));
  }
  for (const float v : {nan, inf, 0.0F, -0.8F, 101.0F}) {
    write_all(bad, patched(bytes, kGainAt, v));
    CHECK(contains(load_error(bad), "rnl gain"));
  }
  write_all(bad, patched(bytes, kInitAt, std::uint8_t{2}));
  CHECK(contains(load_error(bad), "init"));
  write_all(bad, patched(bytes, kSeedInitAt, std::uint8_t{2}));
  CHECK(contains(load_error(bad), "seed init"));
  // The edges of the ranges are accepted.
  write_all(bad, patched(patched(bytes, kDropoutAt, 0.95F), kOutputScaleAt, 1e3F));
  CHECK(load_error(bad).empty());
}

TEST_CASE("save_model refuses options load_model would refuse, and writes nothing") {
  const auto model = make_model("mlp");
  const test::TempDir tmp("rnnl-test-model-file");
  ModelOptions o;
  o.dropout = std::numeric_limits<float>::quiet_NaN();
  CHECK_THROWS_AS(save_model(tmp / "m.bin", *model, o, model->initial_parameters(1)), Error);
  CHECK(test::entries_of(tmp.path()).empty());
}

TEST_CASE("saving a model: no fixed temporary name is followed, and failures leave nothing behind") {
  const auto model = make_model("mlp");
  const auto params = model->initial_parameters(1);
  const test::TempDir tmp("rnnl-test-model-file");
  SUBCASE("a symlink planted at <name>.tmp is not written through") {
    { std::ofstream(tmp / "victim") << "precious"; }
    std::filesystem::create_symlink(tmp / "victim", tmp / "model.bin.tmp");
    save_model(tmp / "model.bin", *model, ModelOptions{}, params);
    CHECK(read_all(tmp / "victim") == std::vector<char>{'p', 'r', 'e', 'c', 'i', 'o', 'u', 's'});
    CHECK_FALSE(std::filesystem::is_symlink(tmp / "model.bin"));
    CHECK(load_model(tmp / "model.bin").parameters == params);
  }
  SUBCASE("saving onto a directory") {
    std::filesystem::create_directory(tmp / "model.bin");
    const std::string e = [&] {
      try {
        save_model(tmp / "model.bin", *model, ModelOptions{}, params);
      } catch (const Error& error) {
        return std::string(error.what());
      }
      return std::string();
    }();
    CHECK(contains(e, "Is a directory"));
    CHECK(test::entries_of(tmp.path()) == std::set<std::string>{"model.bin"});
  }
  SUBCASE("the disk fills up during the save: the earlier model survives") {
    save_model(tmp / "model.bin", *model, ModelOptions{}, params);
    const auto earlier = read_all(tmp / "model.bin");
    const auto other = model->initial_parameters(2);
    {
      const test::FileSizeLimit limit(earlier.size() / 2);
      CHECK_THROWS_AS(save_model(tmp / "model.bin", *model, ModelOptions{}, other), Error);
    }
    CHECK(read_all(tmp / "model.bin") == earlier);
    CHECK(test::entries_of(tmp.path()) == std::set<std::string>{"model.bin"});
  }
}

}  // namespace rnn
