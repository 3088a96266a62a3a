#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "rnn/core/error.hpp"
#include "rnn/models/model_file.hpp"
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
  CHECK_FALSE(std::filesystem::exists(path.string() + ".tmp"));
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
    CHECK(load_error(tmp / "nope.bin").find("nope.bin") != std::string::npos);
  }
}

}  // namespace rnn
