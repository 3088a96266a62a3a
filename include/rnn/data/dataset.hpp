#pragma once
// In-memory image classification datasets (MNIST, Fashion-MNIST): images as a batch-major
// float matrix with pixels scaled to [0, 1] (non-negative, as RNN arrival rates must be).
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "rnn/core/tensor.hpp"

namespace rnn {

struct Dataset {
  Matrix images;                     // samples x (H·W·C), values in [0, 1]
  std::vector<std::uint8_t> labels;  // one per sample, < classes
  Shape shape;                       // per-sample shape (28, 28, 1 for MNIST)
  int classes = 10;
  std::filesystem::path source;  // the images file it was read from (empty if built in memory)
  [[nodiscard]] std::size_t size() const { return labels.size(); }
};

struct DatasetPair {
  Dataset train;
  Dataset test;
};

// Loads "<dir>/{train,t10k}-{images-idx3,labels-idx1}-ubyte" (each also found with ".gz").
// Checks image/label counts agree, images are 28x28 (or the size of the first file, equal in
// both splits) and labels are < 10. With train_limit > 0 only the first train_limit training
// samples are kept in memory (the files are still read through and checked for damage).
DatasetPair load_idx_dataset(const std::filesystem::path& dir, std::size_t train_limit = 0);

// Where the named dataset ("mnist" or "fashion-mnist") is looked for when the caller names no
// folder, and the command that fetches it, for error messages.
std::filesystem::path default_data_dir(const std::string& dataset);
std::string fetch_hint(const std::string& dataset);

// Copies the rows `indices` of `from` into `images` / `labels` (a mini-batch).
void gather_batch(const Dataset& from, std::span<const std::size_t> indices, Matrix& images,
                  std::vector<std::uint8_t>& labels);

}  // namespace rnn
