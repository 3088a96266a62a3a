#include "rnn/async/checkpoint.hpp"

#include <zlib.h>

#include <cstring>
#include <fstream>
#include <map>

#include <fmt/format.h>

#include "rnn/core/atomic_file.hpp"
#include "rnn/core/byte_io.hpp"
#include "rnn/core/error.hpp"

namespace rnn {
namespace {

constexpr char kMagic[8] = {'R', 'N', 'N', 'L', 'C', 'K', 'P', 'T'};
constexpr std::uintmax_t kMaxBytes = std::uintmax_t{1} << 36U;  // 64 GiB

std::uint32_t crc_of(std::span<const std::uint8_t> bytes) {
  uLong crc = crc32(0L, Z_NULL, 0);
  while (!bytes.empty()) {
    const auto chunk = static_cast<uInt>(std::min<std::size_t>(bytes.size(), 1U << 30U));
    crc = crc32(crc, bytes.data(), chunk);
    bytes = bytes.subspan(chunk);
  }
  return static_cast<std::uint32_t>(crc);
}

// "key=value;key=value" → map, for naming the options that differ.
std::map<std::string, std::string> settings_map(const std::string& settings) {
  std::map<std::string, std::string> out;
  std::size_t start = 0;
  while (start < settings.size()) {
    std::size_t end = settings.find(';', start);
    if (end == std::string::npos) end = settings.size();
    const std::string item = settings.substr(start, end - start);
    const auto eq = item.find('=');
    out[item.substr(0, eq)] = eq == std::string::npos ? "" : item.substr(eq + 1);
    start = end + 1;
  }
  return out;
}

}  // namespace

void write_checkpoint(const std::filesystem::path& path, const std::string& settings,
                      std::span<const std::uint8_t> payload) {
  std::vector<std::uint8_t> bytes;
  bytes.reserve(payload.size() + settings.size() + 64);
  bytes.insert(bytes.end(), std::begin(kMagic), std::end(kMagic));
  wire::put_u32(bytes, checkpoint_format_version);
  wire::put_string(bytes, settings);
  wire::put_u64(bytes, payload.size());
  bytes.insert(bytes.end(), payload.begin(), payload.end());
  wire::put_u32(bytes, crc_of(bytes));
  write_file_atomically(path, bytes);
}

std::vector<std::uint8_t> read_checkpoint(const std::filesystem::path& path, const std::string& settings) {
  const std::string where = path.string();
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) throw Error(fmt::format("{}: cannot read checkpoint: {}", where, ec.message()));
  if (size < sizeof(kMagic) + 4) throw Error(fmt::format("{}: not an rnnl checkpoint (too short)", where));
  if (size > kMaxBytes) throw Error(fmt::format("{}: {} bytes is too large for a checkpoint", where, size));
  std::ifstream in(path, std::ios::binary);
  char magic[sizeof(kMagic)];
  if (!in.read(magic, sizeof(magic)) || std::memcmp(magic, kMagic, sizeof(kMagic)) != 0)
    throw Error(fmt::format("{}: not an rnnl checkpoint (bad magic)", where));
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(size));
  std::memcpy(bytes.data(), magic, sizeof(magic));
  if (!in.read(reinterpret_cast<char*>(bytes.data() + sizeof(magic)),
               static_cast<std::streamsize>(size - sizeof(magic))))
    throw Error(fmt::format("{}: read failed", where));
  const std::string source = where + ": checkpoint";
  const std::span<const std::uint8_t> all(bytes);
  wire::Reader r(all.first(bytes.size() - 4), source);
  (void)r.take(sizeof(kMagic), "magic");
  const std::uint32_t version = r.u32("format version");
  if (version != checkpoint_format_version)
    throw Error(fmt::format("{}: checkpoint format {} is not supported (this build reads format {})", where, version,
                            checkpoint_format_version));
  wire::Reader crc_reader(all.last(4), source);
  if (crc_reader.u32("checksum") != crc_of(all.first(bytes.size() - 4)))
    throw Error(fmt::format("{}: checksum mismatch: the checkpoint is corrupt or truncated", where));
  const std::string saved = r.string("settings");
  if (saved != settings) {
    const auto then = settings_map(saved);
    const auto now = settings_map(settings);
    for (const auto& [key, value] : now) {
      const auto it = then.find(key);
      if (it == then.end())
        throw Error(fmt::format("{}: the checkpoint has no setting '{}' (written by another version?)", where, key));
      if (it->second != value)
        throw Error(fmt::format("{}: written with {} = {}, this run has {} = {}; resume with the same settings", where,
                                key, it->second, key, value));
    }
    throw Error(fmt::format("{}: written with other settings; resume with the same settings", where));
  }
  const std::uint64_t payload_size = r.u64("payload size");
  if (payload_size != r.remaining())
    throw Error(fmt::format("{}: payload of {} bytes declared, {} present", where, payload_size, r.remaining()));
  const auto payload = r.take(static_cast<std::size_t>(payload_size), "payload");
  return {payload.begin(), payload.end()};
}

}  // namespace rnn
