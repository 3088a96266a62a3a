// Dataset loading on small generated IDX sets: scaling, file lookup (raw or .gz), the
// consistency checks between files, mini-batch gathering and the default data directory.
#include <doctest/doctest.h>
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "rnn/core/error.hpp"
#include "rnn/data/dataset.hpp"
#include "rnn/data/idx.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;
using Bytes = std::vector<std::uint8_t>;

namespace {

using rnn::test::TempDir;

// Sets an environment variable for the lifetime of the object, restoring the old value.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

rnn::IdxArray images(std::uint32_t count, std::uint32_t rows, std::uint32_t cols) {
  rnn::IdxArray a{{count, rows, cols}, {}};
  for (std::uint32_t i = 0; i < count * rows * cols; ++i) a.data.push_back(static_cast<std::uint8_t>(i * 51));
  return a;
}

rnn::IdxArray labels(std::uint32_t count) {
  rnn::IdxArray a{{count}, {}};
  for (std::uint32_t i = 0; i < count; ++i) a.data.push_back(static_cast<std::uint8_t>((i * 3) % 10));
  return a;
}

// A complete, valid set: 5 train and 2 test images of 3x2 pixels.
void write_set(const fs::path& dir) {
  rnn::write_idx(dir / "train-images-idx3-ubyte", images(5, 3, 2));
  rnn::write_idx(dir / "train-labels-idx1-ubyte", labels(5));
  rnn::write_idx(dir / "t10k-images-idx3-ubyte", images(2, 3, 2));
  rnn::write_idx(dir / "t10k-labels-idx1-ubyte", labels(2));
}

// Replaces a raw file by its gzip-compressed twin "<name>.gz".
void gzip_file(const fs::path& raw) {
  const rnn::IdxArray a = rnn::read_idx(raw);
  Bytes b = {0, 0, 0x08, static_cast<std::uint8_t>(a.dims.size())};
  for (const std::uint32_t d : a.dims) {
    for (int shift = 24; shift >= 0; shift -= 8) b.push_back(static_cast<std::uint8_t>(d >> shift));
  }
  b.insert(b.end(), a.data.begin(), a.data.end());
  fs::path gz = raw;
  gz += ".gz";
  gzFile f = gzopen(gz.c_str(), "wb");
  REQUIRE(f != nullptr);
  REQUIRE(gzwrite(f, b.data(), static_cast<unsigned>(b.size())) == static_cast<int>(b.size()));
  REQUIRE(gzclose(f) == Z_OK);
  fs::remove(raw);
}

std::string load_error(const fs::path& dir) {
  try {
    (void)rnn::load_idx_dataset(dir);
  } catch (const rnn::Error& e) {
    return e.what();
  }
  return {};
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("dataset: loads a small set and scales pixels to [0, 1]") {
  TempDir tmp;
  write_set(tmp.path());
  const rnn::DatasetPair d = rnn::load_idx_dataset(tmp.path());
  CHECK(d.train.size() == 5);
  CHECK(d.test.size() == 2);
  CHECK(d.train.shape == rnn::Shape{3, 2, 1});
  CHECK(d.test.shape == rnn::Shape{3, 2, 1});
  CHECK(d.train.classes == 10);
  CHECK(d.train.images.rows() == 5);
  CHECK(d.train.images.cols() == 6);
  CHECK(d.train.labels == Bytes{0, 3, 6, 9, 2});
  // Pixels are i*51 mod 256: 0, 51, 102, 153, 204, 255, 50, ...
  CHECK(d.train.images(0, 0) == 0.0F);
  CHECK(d.train.images(0, 1) == doctest::Approx(0.2));
  CHECK(d.train.images(0, 5) == 1.0F);
  CHECK(d.train.images(1, 0) == doctest::Approx(50.0 / 255.0));
  // A plain loop: Eigen's minCoeff/maxCoeff draw a false -Wmaybe-uninitialized from GCC 12
  // under AVX-512.
  const float* px = d.train.images.data();
  CHECK(std::all_of(px, px + d.train.images.size(), [](float v) { return v >= 0.0F && v <= 1.0F; }));
}

TEST_CASE("dataset: files are found raw or gzipped, raw preferred") {
  TempDir tmp;
  write_set(tmp.path());
  gzip_file(tmp.path() / "train-images-idx3-ubyte");
  gzip_file(tmp.path() / "t10k-labels-idx1-ubyte");
  CHECK(rnn::load_idx_dataset(tmp.path()).train.size() == 5);

  // A broken .gz next to a good raw file is never opened.
  rnn::write_idx(tmp.path() / "t10k-labels-idx1-ubyte", labels(2));
  fs::resize_file(tmp.path() / "t10k-labels-idx1-ubyte.gz", 3);
  CHECK(rnn::load_idx_dataset(tmp.path()).test.size() == 2);
}

TEST_CASE("dataset: a missing file is reported with the names looked for") {
  TempDir tmp;
  write_set(tmp.path());
  fs::remove(tmp.path() / "t10k-images-idx3-ubyte");
  CHECK_THROWS_AS((void)rnn::load_idx_dataset(tmp.path()), rnn::Error);
  const std::string msg = load_error(tmp.path());
  INFO("message: ", msg);
  CHECK(contains(msg, tmp.path().string()));
  CHECK(contains(msg, "missing t10k-images-idx3-ubyte (or t10k-images-idx3-ubyte.gz)"));
  for (const char* name : {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-labels-idx1-ubyte"}) {
    CHECK(contains(msg, name));
  }

  const std::string none = load_error(tmp.path() / "no-such-dir");
  CHECK(contains(none, "no-such-dir"));
  CHECK(contains(none, "train-images-idx3-ubyte"));
}

TEST_CASE("dataset: image and label counts must agree") {
  TempDir tmp;
  write_set(tmp.path());
  rnn::write_idx(tmp.path() / "train-labels-idx1-ubyte", labels(4));
  CHECK_THROWS_AS((void)rnn::load_idx_dataset(tmp.path()), rnn::Error);
  const std::string msg = load_error(tmp.path());
  INFO("message: ", msg);
  CHECK(contains(msg, "5 images"));
  CHECK(contains(msg, "4 labels"));
  CHECK(contains(msg, "train-labels-idx1-ubyte"));
}

TEST_CASE("dataset: train and test images must have the same size") {
  TempDir tmp;
  write_set(tmp.path());
  rnn::write_idx(tmp.path() / "t10k-images-idx3-ubyte", images(2, 2, 3));
  CHECK_THROWS_AS((void)rnn::load_idx_dataset(tmp.path()), rnn::Error);
  const std::string msg = load_error(tmp.path());
  INFO("message: ", msg);
  CHECK(contains(msg, "t10k-images-idx3-ubyte"));
  CHECK(contains(msg, "2x3"));
  CHECK(contains(msg, "3x2"));
}

TEST_CASE("dataset: labels must be below 10") {
  TempDir tmp;
  write_set(tmp.path());
  rnn::IdxArray bad = labels(5);
  bad.data[3] = 10;
  bad.data[4] = 200;
  rnn::write_idx(tmp.path() / "train-labels-idx1-ubyte", bad);
  CHECK_THROWS_AS((void)rnn::load_idx_dataset(tmp.path()), rnn::Error);
  const std::string msg = load_error(tmp.path());
  INFO("message: ", msg);
  CHECK(contains(msg, "train-labels-idx1-ubyte"));
  CHECK(contains(msg, "label 10 at index 3"));
}

TEST_CASE("dataset: arrays of the wrong rank or size are refused") {
  TempDir tmp;
  write_set(tmp.path());
  SUBCASE("2-D images") {
    rnn::write_idx(tmp.path() / "train-images-idx3-ubyte", rnn::IdxArray{{5, 6}, Bytes(30)});
    CHECK(contains(load_error(tmp.path()), "train-images-idx3-ubyte: expected a 3-D image array"));
  }
  SUBCASE("2-D labels") {
    rnn::write_idx(tmp.path() / "t10k-labels-idx1-ubyte", rnn::IdxArray{{2, 1}, Bytes(2)});
    CHECK(contains(load_error(tmp.path()), "t10k-labels-idx1-ubyte: expected a 1-D label array"));
  }
  SUBCASE("no images") {
    rnn::write_idx(tmp.path() / "train-images-idx3-ubyte", images(0, 3, 2));
    rnn::write_idx(tmp.path() / "train-labels-idx1-ubyte", labels(0));
    CHECK(contains(load_error(tmp.path()), "contains no images"));
  }
  SUBCASE("zero-width images") {
    rnn::write_idx(tmp.path() / "train-images-idx3-ubyte", images(5, 3, 0));
    CHECK(contains(load_error(tmp.path()), "image size 3x0"));
  }
  SUBCASE("errors from the IDX reader pass through") {
    fs::resize_file(tmp.path() / "t10k-images-idx3-ubyte", 20);
    CHECK(contains(load_error(tmp.path()), "t10k-images-idx3-ubyte: truncated"));
  }
}

TEST_CASE("dataset: gather_batch copies the chosen rows and labels") {
  TempDir tmp;
  write_set(tmp.path());
  const rnn::Dataset train = rnn::load_idx_dataset(tmp.path()).train;
  rnn::Matrix batch(7, 7);  // wrong size on purpose: gather_batch must resize
  std::vector<std::uint8_t> batch_labels(1);
  const std::vector<std::size_t> idx = {4, 0, 4};
  rnn::gather_batch(train, idx, batch, batch_labels);
  REQUIRE(batch.rows() == 3);
  REQUIRE(batch.cols() == 6);
  CHECK(batch.row(0) == train.images.row(4));
  CHECK(batch.row(1) == train.images.row(0));
  CHECK(batch.row(2) == train.images.row(4));
  CHECK(batch_labels == Bytes{train.labels[4], train.labels[0], train.labels[4]});

  const std::vector<std::size_t> out_of_range = {5};
  CHECK_THROWS_AS(rnn::gather_batch(train, out_of_range, batch, batch_labels), rnn::Error);
}

TEST_CASE("dataset: default_data_dir and fetch_hint") {
  CHECK_THROWS_AS((void)rnn::default_data_dir("cifar10"), rnn::Error);
  try {
    (void)rnn::default_data_dir("cifar10");
  } catch (const rnn::Error& e) {
    const std::string msg = e.what();
    CHECK(contains(msg, "cifar10"));
    CHECK(contains(msg, "mnist"));
    CHECK(contains(msg, "fashion-mnist"));
  }
  CHECK_THROWS_AS((void)rnn::fetch_hint("cifar10"), rnn::Error);
  CHECK(rnn::fetch_hint("mnist") == "bash data/fetch-mnist.sh");
  CHECK(contains(rnn::fetch_hint("fashion-mnist"), "dataset-fashion-mnist"));

  TempDir tmp;
  const ScopedEnv env("RNNL_DATA_DIR", tmp.path().string());
  for (const std::string name : {"mnist", "fashion-mnist"}) {
    // Without the labels file the env candidate is skipped; whatever is returned instead is
    // either a directory that has it or, if none does, the first candidate (the env one).
    const fs::path found = rnn::default_data_dir(name);
    CHECK((found == tmp.path() / name || fs::exists(found / "train-labels-idx1-ubyte") ||
           fs::exists(found / "train-labels-idx1-ubyte.gz")));

    fs::create_directories(tmp.path() / name);
    rnn::write_idx(tmp.path() / name / "train-labels-idx1-ubyte", labels(1));
    if (name == "fashion-mnist") gzip_file(tmp.path() / name / "train-labels-idx1-ubyte");
    CHECK(rnn::default_data_dir(name) == tmp.path() / name);
  }
}

TEST_CASE("dataset: a training limit keeps the first samples; the test split and the checks stay whole") {
  TempDir tmp;
  write_set(tmp.path());
  const rnn::DatasetPair all = rnn::load_idx_dataset(tmp.path());
  const rnn::DatasetPair some = rnn::load_idx_dataset(tmp.path(), 3);
  REQUIRE(some.train.size() == 3);
  CHECK(some.train.images == all.train.images.topRows(3));
  CHECK(some.train.labels == Bytes(all.train.labels.begin(), all.train.labels.begin() + 3));
  CHECK(some.test.size() == all.test.size());
  CHECK(rnn::load_idx_dataset(tmp.path(), 50).train.size() == 5);
  // A count mismatch beyond the limit is still found.
  rnn::write_idx(tmp / "train-labels-idx1-ubyte", labels(4));
  CHECK_THROWS_AS(rnn::load_idx_dataset(tmp.path(), 3), rnn::Error);
}
