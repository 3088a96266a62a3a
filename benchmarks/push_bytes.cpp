// Bytes per push for every compressor × index encoding × value encoding, on the real gradients
// of `cnn` and `rnl_deep` (mini-batches of MNIST at the models' initial parameters; random
// images if MNIST is not fetched, which the output says). Every number is the size of an encoded
// message that decodes back, averaged over --pushes successive pushes (stateful compressors such
// as error feedback change from push to push); "vs dense" divides the dense f32 push by it.
//
// Lossless and lossy encodings are reported apart. An encoding is lossless for a compressor when
// the server decodes exactly the values the compressor produced (checked on every push): f32
// always, `sign` for sign-grid compressors, `levels` for sign- and level-grid ones. Any other
// pairing rounds the values and so changes the method (AdaComp with sign values is not AdaComp):
// its bytes are shown in their own columns and are never the compressor's own figure. Pairings
// the codec refuses (the sign encoding cannot carry a quantiser's zeros) are left out.
//   build/benchmarks/rnnl_push_bytes [--csv] [--ratio 0.01] [--batch 10] [--pushes 5]
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <bit>
#include <iostream>
#include <optional>
#include <string>
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

// One compressor through one encoding over every push, as PushEncoder does it (compress → round →
// encode → commit), but keeping the compressor's own values to compare with what is delivered.
struct Measured {
  bool refused = false;  // the codec refuses the pairing
  bool lossless = true;  // every push delivered the compressor's values bit for bit
  double bytes = 0.0;    // mean per push
  double entries = 0.0;  // mean per push
};

bool same_values(const rnn::Message& a, const rnn::Message& b) {
  for (std::size_t k = 0; k < a.blocks.size(); ++k) {
    const auto& x = a.blocks[k].values;
    const auto& y = b.blocks[k].values;
    if (x.size() != y.size() || !std::equal(x.begin(), x.end(), y.begin(), [](float u, float v) {
          return std::bit_cast<std::uint32_t>(u) == std::bit_cast<std::uint32_t>(v);
        }))
      return false;
  }
  return true;
}

Measured measure(const rnn::CompressorOptions& options, const rnn::ParameterLayout& layout,
                 const rnn::CodecOptions& codec, const std::vector<std::vector<float>>& gradients) {
  Measured m;
  auto compressor = rnn::make_compressor(options, layout);
  rnn::Message produced;
  rnn::Message delivered;
  std::vector<std::uint8_t> bytes;
  try {
    for (const auto& g : gradients) {
      compressor->compress(g, produced);
      produced.base_version = 1000;
      produced.worker = 1;
      delivered = produced;
      rnn::round_to_encoding(delivered, codec);
      rnn::encode(delivered, layout, codec, bytes);
      compressor->commit(delivered);
      m.lossless = m.lossless && same_values(produced, delivered);
      m.bytes += static_cast<double>(bytes.size());
      m.entries += static_cast<double>(delivered.entry_count());
    }
  } catch (const rnn::Error&) {
    m.refused = true;
  }
  m.bytes /= static_cast<double>(gradients.size());
  m.entries /= static_cast<double>(gradients.size());
  return m;
}

std::string encoding_name(const rnn::CodecOptions& e) {
  return fmt::format("{}/{}", rnn::to_string(e.indices), rnn::to_string(e.values));
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
    if (csv) fmt::print("model,compressor,indices,values,lossless,bytes_per_push,entries_per_push,vs_dense\n");

    const rnn::CompressorOptions defaults;
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
            "\n{} ({} parameters, {} tensors), batch {}, {}; c = {}, threshold h = {}, qsgd s = {} with buckets of "
            "{}, terngrad clipped at {}σ; dense f32 push = {:.0f} bytes; mean bytes per push over {} pushes\n\n",
            model_name, layout.size(), layout.segments().size(), batch, batches.source, ratio, defaults.threshold,
            defaults.levels, defaults.bucket, defaults.clip_stddev, dense_bytes, pushes);
        fmt::print(
            "| compressor | entries | u32/f32 | best lossless (encoding) | vs dense | smallest lossy (encoding), not "
            "the "
            "compressor's | vs dense, lossy |\n|---|---:|---:|---:|---:|---:|---:|\n");
      }
      for (const auto& name : rnn::compressor_names()) {
        rnn::CompressorOptions options;
        options.name = name;
        options.ratio = ratio;
        std::vector<Measured> results;
        for (const auto& e : encodings) {
          results.push_back(measure(options, layout, e, gradients));
          const Measured& m = results.back();
          if (csv && !m.refused)
            fmt::print("{},{},{},{},{},{:.1f},{:.1f},{:.2f}\n", model_name, name, rnn::to_string(e.indices),
                       rnn::to_string(e.values), m.lossless ? "true" : "false", m.bytes, m.entries,
                       dense_bytes / m.bytes);
        }
        if (csv) continue;
        // The smallest encoding of each kind; u32/f32 (index 0) is lossless for every compressor.
        std::optional<std::size_t> best_lossless;
        std::optional<std::size_t> best_lossy;
        for (std::size_t i = 0; i < results.size(); ++i) {
          if (results[i].refused) continue;
          auto& best = results[i].lossless ? best_lossless : best_lossy;
          if (!best || results[i].bytes < results[*best].bytes) best = i;
        }
        const auto cell = [&](const std::optional<std::size_t>& i) {
          return i ? fmt::format("{:.0f} ({})", results[*i].bytes, encoding_name(encodings[*i])) : std::string("—");
        };
        const auto ratio_cell = [&](const std::optional<std::size_t>& i) {
          return i ? fmt::format("{:.1f}×", dense_bytes / results[*i].bytes) : std::string("—");
        };
        fmt::print("| {} | {:.0f} | {:.0f} | {} | {} | {} | {} |\n", name, results[0].entries, results[0].bytes,
                   cell(best_lossless), ratio_cell(best_lossless), cell(best_lossy), ratio_cell(best_lossy));
      }
    }
  } catch (const rnn::Error& e) {
    std::cerr << "rnnl_push_bytes: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
