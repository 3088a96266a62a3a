#pragma once
// Versioned model files: the model's name and options (enough to rebuild it with make_model),
// its segment table (checked against the rebuilt layout), the flat parameters, and a CRC-32
// of everything before it. Little-endian throughout (rnn/core/byte_io.hpp).
//
//   "RNNLMODL" u32 version | str name | f32 output_scale | f32 dropout | u8 rnl_init | f32 rnl_gain
//   | u8 seed_init | u64 parameter_count | u32 segments { str name, u64 offset, u64 rows,
//   u64 cols, u8 non_negative } | f32 × parameter_count | u32 crc32
//
// str = u32 length + bytes. Version 1. Files are written with write_file_atomically
// (rnn/core/atomic_file.hpp).
//
// Loading reads the header first (at most kMaxModelHeaderBytes) and checks it against the file
// size before anything else is read or allocated, so a foreign or damaged file of any size is
// refused at once. The options are held to the ranges rnnl-train accepts (check_model_options),
// also when a file's checksum matches.
#include <filesystem>
#include <memory>
#include <vector>

#include "rnn/models/model.hpp"
#include "rnn/models/registry.hpp"

namespace rnn {

// The options a model file may carry: the ranges rnnl-train accepts on its command line.
inline constexpr float kMinOutputScale = 1e-3F;
inline constexpr float kMaxOutputScale = 1e3F;
inline constexpr float kMaxDropout = 0.95F;
inline constexpr float kMinRnlGain = 1e-3F;
inline constexpr float kMaxRnlGain = 100.0F;
inline constexpr std::size_t kMaxModelHeaderBytes = std::size_t{1} << 20U;

// Throws rnn::Error naming the first option outside its range (NaN and infinities included).
void check_model_options(const ModelOptions& options);

struct LoadedModel {
  std::unique_ptr<Model> model;
  ModelOptions options;
  std::vector<float> parameters;
};

// Throws rnn::Error if the options are out of range (a file load_model would refuse) or the write
// fails; an earlier file at path is then left as it was.
void save_model(const std::filesystem::path& path, const Model& model, const ModelOptions& options,
                std::span<const float> parameters);

// Throws rnn::Error naming the file and the problem (cannot open, bad magic, unsupported version,
// size not what the header declares, options out of range, unknown model, layout mismatch,
// checksum mismatch, non-finite or negative-where-forbidden values).
LoadedModel load_model(const std::filesystem::path& path);

}  // namespace rnn
