#pragma once
// Versioned model files: the model's name and options (enough to rebuild it with make_model),
// its segment table (checked against the rebuilt layout), the flat parameters, and a CRC-32
// of everything before it. Little-endian throughout.
//
//   "RNNLMODL" u32 version | str name | f32 output_scale | f32 dropout | u8 rnl_init | f32 rnl_gain
//   | u8 seed_init | u64 parameter_count | u32 segments { str name, u64 offset, u64 rows,
//   u64 cols, u8 non_negative } | f32 × parameter_count | u32 crc32
//
// str = u32 length + bytes. Writes go to "<path>.tmp" and are renamed into place.
#include <filesystem>
#include <memory>
#include <vector>

#include "rnn/models/model.hpp"
#include "rnn/models/registry.hpp"

namespace rnn {

struct LoadedModel {
  std::unique_ptr<Model> model;
  ModelOptions options;
  std::vector<float> parameters;
};

void save_model(const std::filesystem::path& path, const Model& model, const ModelOptions& options,
                std::span<const float> parameters);

// Throws rnn::Error naming the file and the problem (truncated, bad magic, unsupported version,
// checksum mismatch, unknown model, layout mismatch, non-finite or negative-where-forbidden values).
LoadedModel load_model(const std::filesystem::path& path);

}  // namespace rnn
