// Writes a small synthetic MNIST-shaped dataset (the four IDX files) into a folder, for the
// command-line tests: rnnl_make_test_data DIR [train_count] [test_count] [rows] [cols]
// (images are 28x28 unless rows and cols say otherwise).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "rnn/core/error.hpp"
#include "rnn/core/rng.hpp"
#include "rnn/data/idx.hpp"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s DIR [train_count] [test_count] [rows] [cols]\n", argv[0]);
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  const std::uint32_t train = argc > 2 ? static_cast<std::uint32_t>(std::strtoul(argv[2], nullptr, 10)) : 600;
  const std::uint32_t test = argc > 3 ? static_cast<std::uint32_t>(std::strtoul(argv[3], nullptr, 10)) : 200;
  const std::uint32_t rows = argc > 4 ? static_cast<std::uint32_t>(std::strtoul(argv[4], nullptr, 10)) : 28;
  const std::uint32_t cols = argc > 5 ? static_cast<std::uint32_t>(std::strtoul(argv[5], nullptr, 10)) : 28;
  const std::uint32_t pixels = rows * cols;
  try {
    std::filesystem::create_directories(dir);
    rnn::Rng proto_rng(99);
    std::vector<std::uint8_t> prototypes(std::size_t{10} * pixels);
    for (auto& p : prototypes) p = proto_rng.uniform() < 0.2F ? 255 : 0;
    rnn::Rng rng(7);
    for (const auto& [name, count] : {std::pair{std::string("train"), train}, std::pair{std::string("t10k"), test}}) {
      rnn::IdxArray images{{count, rows, cols}, {}};
      rnn::IdxArray labels{{count}, {}};
      for (std::uint32_t s = 0; s < count; ++s) {
        const auto label = static_cast<std::uint8_t>(rng.below(10));
        labels.data.push_back(label);
        for (std::uint32_t p = 0; p < pixels; ++p) {
          const int noisy = prototypes[label * pixels + p] + static_cast<int>(rng.below(80)) - 40;
          images.data.push_back(static_cast<std::uint8_t>(std::clamp(noisy, 0, 255)));
        }
      }
      rnn::write_idx(dir / (name + "-images-idx3-ubyte"), images);
      rnn::write_idx(dir / (name + "-labels-idx1-ubyte"), labels);
    }
  } catch (const rnn::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
