#include "rnn/data/dataset.hpp"

#include <array>
#include <climits>
#include <cstdlib>
#include <limits>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <fmt/format.h>

#include "rnn/core/error.hpp"
#include "rnn/data/idx.hpp"

namespace rnn {
namespace fs = std::filesystem;

namespace {

constexpr int kClasses = 10;
constexpr std::array<std::string_view, 4> kFileNames = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                                        "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};
constexpr std::string_view kExpectedFiles =
    "train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, "
    "t10k-labels-idx1-ubyte, each optionally with .gz";

bool is_file(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

// The uncompressed file wins when both exist: it is the one a user unpacked on purpose.
std::optional<fs::path> find_file(const fs::path& dir, std::string_view name) {
  const fs::path raw = dir / name;
  if (is_file(raw)) return raw;
  fs::path gz = raw;
  gz += ".gz";
  if (is_file(gz)) return gz;
  return std::nullopt;
}

struct Split {
  Dataset data;
  std::uint32_t rows = 0;
  std::uint32_t cols = 0;
  fs::path images_path;
};

// Keeps the first max_items images and labels; both files are still checked whole.
Split load_split(const fs::path& images_path, const fs::path& labels_path, std::size_t max_items) {
  const IdxArray images = read_idx(images_path, max_items);
  const IdxArray labels = read_idx(labels_path, max_items);
  if (images.dims.size() != 3) {
    throw Error(fmt::format("{}: expected a 3-D image array (count x rows x cols), got {} dimensions",
                            images_path.string(), images.dims.size()));
  }
  if (labels.dims.size() != 1) {
    throw Error(
        fmt::format("{}: expected a 1-D label array, got {} dimensions", labels_path.string(), labels.dims.size()));
  }
  const std::uint32_t count = images.dims[0];
  const std::uint32_t rows = images.dims[1];
  const std::uint32_t cols = images.dims[2];
  if (count != labels.dims[0]) {
    throw Error(fmt::format("{} holds {} images but {} holds {} labels", images_path.string(), count,
                            labels_path.string(), labels.dims[0]));
  }
  if (count == 0) throw Error(fmt::format("{}: contains no images", images_path.string()));
  // Shape stores int; read_idx's size cap does not rule out a single image past INT_MAX pixels.
  const std::uint64_t pixels = std::uint64_t{rows} * cols;
  if (rows == 0 || cols == 0 || pixels > INT_MAX) {
    throw Error(fmt::format("{}: unusable image size {}x{}", images_path.string(), rows, cols));
  }
  for (std::size_t i = 0; i < labels.data.size(); ++i) {
    if (labels.data[i] >= kClasses) {
      throw Error(fmt::format("{}: label {} at index {} is out of range (expected 0..{})", labels_path.string(),
                              labels.data[i], i, kClasses - 1));
    }
  }

  const auto kept = static_cast<Eigen::Index>(labels.data.size());
  Split split;
  split.rows = rows;
  split.cols = cols;
  split.images_path = images_path;
  Dataset& d = split.data;
  using ByteMatrix = Eigen::Matrix<std::uint8_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const Eigen::Map<const ByteMatrix> bytes(images.data.data(), kept, static_cast<Eigen::Index>(pixels));
  try {
    // Division rather than a reciprocal multiply keeps 255 mapping to exactly 1.0f.
    d.images = bytes.cast<Scalar>() / Scalar{255};
  } catch (const std::bad_alloc&) {
    throw Error(fmt::format("{}: not enough memory for {} images as floats", images_path.string(), kept));
  }
  d.labels = labels.data;
  d.shape = Shape{static_cast<int>(rows), static_cast<int>(cols), 1};
  d.classes = kClasses;
  d.source = images_path;
  return split;
}

void check_dataset_name(const std::string& dataset) {
  if (dataset != "mnist" && dataset != "fashion-mnist") {
    throw Error(fmt::format("unknown dataset '{}': valid names are mnist, fashion-mnist", dataset));
  }
}

}  // namespace

DatasetPair load_idx_dataset(const fs::path& dir, std::size_t train_limit) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    throw Error(fmt::format("{}: dataset directory does not exist (expected {})", dir.string(), kExpectedFiles));
  }
  std::array<fs::path, kFileNames.size()> paths;
  std::vector<std::string> missing;
  for (std::size_t i = 0; i < kFileNames.size(); ++i) {
    if (auto found = find_file(dir, kFileNames[i])) {
      paths[i] = *found;
    } else {
      missing.push_back(fmt::format("{0} (or {0}.gz)", kFileNames[i]));
    }
  }
  if (!missing.empty()) {
    std::string list;
    for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
    throw Error(fmt::format("{}: dataset incomplete: missing {}; expected {}", dir.string(), list, kExpectedFiles));
  }

  Split train = load_split(paths[0], paths[1], train_limit > 0 ? train_limit : std::numeric_limits<std::size_t>::max());
  Split test = load_split(paths[2], paths[3], std::numeric_limits<std::size_t>::max());
  if (train.rows != test.rows || train.cols != test.cols) {
    throw Error(fmt::format("{}: images are {}x{} but {} has {}x{}", test.images_path.string(), test.rows, test.cols,
                            train.images_path.string(), train.rows, train.cols));
  }
  return DatasetPair{std::move(train.data), std::move(test.data)};
}

fs::path default_data_dir(const std::string& dataset) {
  check_dataset_name(dataset);
  std::vector<fs::path> candidates;
  if (const char* env = std::getenv("RNNL_DATA_DIR"); env != nullptr && *env != '\0') {
    candidates.push_back(fs::path(env) / dataset);
  }
  std::error_code ec;
  const fs::path cwd = fs::current_path(ec);
  // An absolute path reads better in "not found" messages; the relative one is the fallback
  // when the working directory cannot be determined.
  candidates.push_back((ec ? fs::path("data") : cwd / "data") / dataset);
#ifdef RNNL_SOURCE_DIR
  candidates.push_back(fs::path(RNNL_SOURCE_DIR) / "data" / dataset);
#endif
  if (dataset == "fashion-mnist") candidates.emplace_back("/usr/share/datasets/fashion-mnist");

  for (const auto& dir : candidates) {
    if (fs::is_directory(dir, ec) && find_file(dir, "train-labels-idx1-ubyte")) return dir;
  }
  return candidates.front();
}

std::string fetch_hint(const std::string& dataset) {
  check_dataset_name(dataset);
  if (dataset == "mnist") return "bash data/fetch-mnist.sh";
  return "apt-get install dataset-fashion-mnist";
}

void gather_batch(const Dataset& from, std::span<const std::size_t> indices, Matrix& images,
                  std::vector<std::uint8_t>& labels) {
  const auto n = static_cast<Eigen::Index>(indices.size());
  images.resize(n, from.images.cols());
  labels.resize(indices.size());
  for (std::size_t r = 0; r < indices.size(); ++r) {
    const std::size_t i = indices[r];
    if (i >= from.size()) {
      throw Error(fmt::format("gather_batch: sample index {} out of range (dataset has {})", i, from.size()));
    }
    images.row(static_cast<Eigen::Index>(r)) = from.images.row(static_cast<Eigen::Index>(i));
    labels[r] = from.labels[i];
  }
}

}  // namespace rnn
