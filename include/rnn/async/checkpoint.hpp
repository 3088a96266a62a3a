#pragma once
// Checkpoint files of an asynchronous run: everything needed to continue it (server parameters,
// version, staleness history and update-rule state; each worker's position in its shard, random
// streams, compressor memory and push in flight; the virtual clock's pending events; the counters
// and the evaluation points so far), in the project's byte format.
//
//   "RNNLCKPT" | u32 format version | str settings | u64 payload size | payload | u32 CRC-32
//
// `settings` names every option that shapes the run (model, data split, workers, compressor,
// codec, server, devices, reliability, seed …, not the stopping point, evaluation schedule or
// thread count): a run resumes only under the same settings, and a mismatch is reported option by
// option. The CRC covers everything before it. Written atomically (core/atomic_file.hpp): a
// reader sees the previous checkpoint or the new one, never a mixture.
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace rnn {

inline constexpr std::uint32_t checkpoint_format_version = 1;

void write_checkpoint(const std::filesystem::path& path, const std::string& settings,
                      std::span<const std::uint8_t> payload);

// The payload of the checkpoint at `path`, after checking magic, version, size, CRC and that it
// was written under `settings`. Throws rnn::Error naming the file and the problem (for settings,
// the first option that differs).
[[nodiscard]] std::vector<std::uint8_t> read_checkpoint(const std::filesystem::path& path, const std::string& settings);

}  // namespace rnn
