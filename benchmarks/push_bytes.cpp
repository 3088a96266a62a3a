// Bytes per push for every compressor × index encoding × value encoding, on the real gradients
// of `cnn` and `rnl_deep` (mini-batches of MNIST at the models' initial parameters; random
// images if MNIST is not fetched, which the output says). Every number is the size of an encoded
// message that decodes back, averaged over --pushes successive pushes (stateful compressors such
// as error feedback change from push to push). "vs dense" divides the dense f32 push by it;
// "—" marks a pairing the codec refuses (the sign encoding cannot carry a quantiser's zeros).
// Lossy encodings change what is learned: bytes here say nothing about accuracy.
//   build/benchmarks/rnnl_push_bytes [--csv] [--ratio 0.01] [--batch 10] [--pushes 5]
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <iostream>
#include <vector>

#include "rnn/compress/push.hpp"
#include "rnn/core/error.hpp"
#include "rnn/core/rng.hpp"
#include "rnn/data/dataset.hpp"
#include "rnn/models/registry.hpp"

namespace {

struct Batches {
  std::vector<rnn::Matrix> images;
  std::vector<std::vector<std::uint8_t>> labels;
  std::string source;
};

Batches load_batches(const std::string& data_dir, int batch, int count) {
  Batches b;
  try {
    const auto data =
        rnn::load_idx_dataset(data_dir.empty() ? rnn::default_data_dir("mnist") : std::filesystem::path(data_dir));
    for (int i = 0; i < count; ++i) {
      std::vector<std::size_t> rows(static_cast<std::size_t>(batch));
      for (int j = 0; j < batch; ++j) rows[static_cast<std::size_t>(j)] = static_cast<std::size_t>(i * batch + j);
      b.images.emplace_back();
      b.labels.emplace_back();
      rnn::gather_batch(data.train, rows, b.images.back(), b.labels.back());
    }
    b.source = "MNIST training images";
    return b;
  } catch (const rnn::Error& e) {
    std::cerr << "note: " << e.what() << "\n      using random images with MNIST's density instead\n";
  }
  rnn::Rng rng(7);
  for (int i = 0; i < count; ++i) {
    rnn::Matrix x(batch, 784);
    for (Eigen::Index j = 0; j < x.size(); ++j) x.data()[j] = rng.uniform() < 0.19F ? rng.uniform() : 0.0F;
    std::vector<std::uint8_t> y(static_cast<std::size_t>(batch));
    for (auto& label : y) label = static_cast<std::uint8_t>(rng.below(10));
    b.images.push_back(std::move(x));
    b.labels.push_back(std::move(y));
  }
  b.source = "random images (MNIST not found)";
  return b;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Bytes per push of every compressor and wire encoding, on real model gradients"};
  double ratio = 0.01;
  int batch = 10;
  int pushes = 5;
  bool csv = false;
  std::string data_dir;
  std::vector<std::string> models{"cnn", "rnl_deep"};
  app.add_option("--ratio", ratio, "c: fraction of each tensor the sparsifiers send")->check(CLI::Range(1e-6, 1.0));
  app.add_option("--batch", batch, "mini-batch size of each gradient (AdaComp's code uses 10)")
      ->check(CLI::Range(1, 4096));
  app.add_option("--pushes", pushes, "successive pushes averaged per compressor")->check(CLI::Range(1, 1000));
  app.add_option("--models", models, "models to measure");
  app.add_option("--data-dir", data_dir, "folder with the MNIST IDX files (default: data/mnist)");
  app.add_flag("--csv", csv, "one CSV row per model × compressor × encoding instead of tables");
  CLI11_PARSE(app, argc, argv);

  try {
    const Batches batches = load_batches(data_dir, batch, pushes);
    std::vector<rnn::CodecOptions> encodings;
    for (auto index : {rnn::IndexEncoding::u32, rnn::IndexEncoding::delta_varint})
      for (auto value : {rnn::ValueEncoding::f32, rnn::ValueEncoding::f16, rnn::ValueEncoding::sign_scale,
                         rnn::ValueEncoding::levels})
        encodings.push_back({index, value, 127});
    if (csv) fmt::print("model,compressor,indices,values,bytes_per_push,entries_per_push,vs_dense\n");

    for (const auto& model_name : models) {
      const auto model = rnn::make_model(model_name);
      const auto& layout = model->layout();
      const auto params = model->initial_parameters(1);
      auto ws = model->make_workspace();
      std::vector<std::vector<float>> gradients;
      for (int t = 0; t < pushes; ++t) {
        gradients.emplace_back(layout.size());
        (void)model->loss_and_gradient(params, batches.images[static_cast<std::size_t>(t)],
                                       batches.labels[static_cast<std::size_t>(t)], gradients.back(), ws);
      }
      const double dense_bytes = [&] {
        rnn::PushEncoder dense(layout, rnn::make_compressor({.name = "none"}, layout), {});
        return static_cast<double>(dense.encode(gradients[0], 1000, 1).size());
      }();

      if (!csv) {
        fmt::print(
            "\n{} ({} parameters, {} tensors), c = {}, threshold h = {}, batch {}, {}; dense f32 push = {:.0f} "
            "bytes; mean bytes per push over {} pushes\n\n",
            model_name, layout.size(), layout.segments().size(), ratio, rnn::CompressorOptions{}.threshold, batch,
            batches.source, dense_bytes, pushes);
        fmt::print("| compressor | entries |");
        for (const auto& e : encodings) fmt::print(" {}/{} |", rnn::to_string(e.indices), rnn::to_string(e.values));
        fmt::print(" vs dense (u32/f32) | vs dense (best) |\n|---|---:|");
        for (std::size_t i = 0; i < encodings.size() + 2; ++i) fmt::print("---:|");
        fmt::print("\n");
      }
      for (const auto& name : rnn::compressor_names()) {
        rnn::CompressorOptions options;
        options.name = name;
        options.ratio = ratio;
        std::vector<double> bytes;  // 0: the codec refuses the pairing (sign encoding of a level grid)
        double entries = 0.0;       // with the first (lossless) encoding
        for (const auto& e : encodings) {
          rnn::PushEncoder push(layout, rnn::make_compressor(options, layout), e);
          double total = 0.0;
          double sent = 0.0;
          try {
            for (int t = 0; t < pushes; ++t) {
              total += static_cast<double>(push.encode(gradients[static_cast<std::size_t>(t)], 1000, 1).size());
              sent += static_cast<double>(push.message().entry_count());
            }
          } catch (const rnn::Error&) {
            total = 0.0;
          }
          bytes.push_back(total / pushes);
          if (&e == &encodings.front()) entries = sent / pushes;
          if (csv && total > 0.0)
            fmt::print("{},{},{},{},{:.1f},{:.1f},{:.2f}\n", model_name, name, rnn::to_string(e.indices),
                       rnn::to_string(e.values), bytes.back(), sent / pushes, dense_bytes / bytes.back());
        }
        if (!csv) {
          fmt::print("| {} | {:.0f} |", name, entries);
          std::size_t best = 0;
          for (std::size_t i = 0; i < bytes.size(); ++i) {
            if (bytes[i] == 0.0) {
              fmt::print(" — |");
              continue;
            }
            fmt::print(" {:.0f} |", bytes[i]);
            if (bytes[i] < bytes[best]) best = i;
          }
          fmt::print(" {:.2f}× | {:.1f}× ({}/{}) |\n", dense_bytes / bytes[0], dense_bytes / bytes[best],
                     rnn::to_string(encodings[best].indices), rnn::to_string(encodings[best].values));
        }
      }
    }
  } catch (const rnn::Error& e) {
    std::cerr << "rnnl_push_bytes: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
