#include "rnn/models/model_file.hpp"

#include <zlib.h>

#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>

#include <fmt/format.h>

#include "rnn/core/error.hpp"

namespace rnn {
namespace {

static_assert(std::endian::native == std::endian::little, "model files are written in host order = little-endian");

constexpr char kMagic[8] = {'R', 'N', 'N', 'L', 'M', 'O', 'D', 'L'};
constexpr std::uint32_t kVersion = 1;
constexpr std::uintmax_t kMaxFileBytes = std::uintmax_t{1} << 33U;  // 8 GiB: far above any model here

class Writer {
 public:
  template <typename T>
  void put(T value) {
    const auto* p = reinterpret_cast<const char*>(&value);
    bytes.insert(bytes.end(), p, p + sizeof(T));
  }
  void put_string(const std::string& s) {
    put(static_cast<std::uint32_t>(s.size()));
    bytes.insert(bytes.end(), s.begin(), s.end());
  }
  std::vector<char> bytes;
};

class Reader {
 public:
  Reader(const std::vector<char>& bytes, std::size_t end, const std::filesystem::path& path)
      : bytes_(bytes), end_(end), path_(path) {}

  template <typename T>
  T get(const char* what) {
    need(sizeof(T), what);
    T value;
    std::memcpy(&value, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return value;
  }
  std::string get_string(const char* what) {
    const auto n = get<std::uint32_t>(what);
    need(n, what);
    std::string s(bytes_.data() + pos_, n);
    pos_ += n;
    return s;
  }
  void get_floats(std::span<float> out) {
    need(out.size() * sizeof(float), "parameters");
    std::memcpy(out.data(), bytes_.data() + pos_, out.size() * sizeof(float));
    pos_ += out.size() * sizeof(float);
  }
  [[nodiscard]] std::size_t remaining() const { return end_ - pos_; }

 private:
  void need(std::size_t n, const char* what) const {
    if (n > end_ - pos_) throw Error(fmt::format("{}: truncated model file (while reading {})", path_.string(), what));
  }
  const std::vector<char>& bytes_;
  std::size_t end_;
  std::size_t pos_ = 0;
  const std::filesystem::path& path_;
};

std::uint32_t crc_of(const char* data, std::size_t n) {
  uLong crc = crc32(0L, Z_NULL, 0);
  while (n > 0) {
    const auto chunk = static_cast<uInt>(std::min<std::size_t>(n, 1U << 30U));
    crc = crc32(crc, reinterpret_cast<const Bytef*>(data), chunk);
    data += chunk;
    n -= chunk;
  }
  return static_cast<std::uint32_t>(crc);
}

}  // namespace

void save_model(const std::filesystem::path& path, const Model& model, const ModelOptions& options,
                std::span<const float> parameters) {
  if (parameters.size() != model.parameter_count()) {
    throw Error(fmt::format("{}: {} parameters given for a model of {}", path.string(), parameters.size(),
                            model.parameter_count()));
  }
  Writer w;
  w.bytes.insert(w.bytes.end(), std::begin(kMagic), std::end(kMagic));
  w.put(kVersion);
  w.put_string(model.name());
  w.put(options.output_scale);
  w.put(options.dropout);
  w.put(static_cast<std::uint8_t>(options.rnl.init));
  w.put(options.rnl.gain);
  w.put(static_cast<std::uint8_t>(options.seed_init ? 1 : 0));
  w.put(static_cast<std::uint64_t>(parameters.size()));
  const auto& segments = model.layout().segments();
  w.put(static_cast<std::uint32_t>(segments.size()));
  for (const Segment& s : segments) {
    w.put_string(s.name);
    w.put(static_cast<std::uint64_t>(s.offset));
    w.put(static_cast<std::uint64_t>(s.rows));
    w.put(static_cast<std::uint64_t>(s.cols));
    w.put(static_cast<std::uint8_t>(s.non_negative ? 1 : 0));
  }
  const auto* raw = reinterpret_cast<const char*>(parameters.data());
  w.bytes.insert(w.bytes.end(), raw, raw + parameters.size_bytes());
  w.put(crc_of(w.bytes.data(), w.bytes.size()));

  std::filesystem::path tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw Error(fmt::format("{}: cannot open for writing", tmp.string()));
    out.write(w.bytes.data(), static_cast<std::streamsize>(w.bytes.size()));
    out.flush();
    if (!out) throw Error(fmt::format("{}: write failed (disk full?)", tmp.string()));
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) throw Error(fmt::format("{}: cannot rename from {}: {}", path.string(), tmp.string(), ec.message()));
}

LoadedModel load_model(const std::filesystem::path& path) {
  const std::string where = path.string();
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) throw Error(fmt::format("{}: cannot read model file: {}", where, ec.message()));
  if (size > kMaxFileBytes) throw Error(fmt::format("{}: {} bytes is too large for a model file", where, size));
  if (size < sizeof(kMagic) + 2 * sizeof(std::uint32_t)) throw Error(fmt::format("{}: truncated model file", where));
  std::vector<char> bytes(size);
  {
    std::ifstream in(path, std::ios::binary);
    in.read(bytes.data(), static_cast<std::streamsize>(size));
    if (!in) throw Error(fmt::format("{}: read failed", where));
  }
  if (std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0) {
    throw Error(fmt::format("{}: not an rnnl model file (bad magic)", where));
  }
  const std::size_t body = bytes.size() - sizeof(std::uint32_t);
  std::uint32_t stored_crc = 0;
  std::memcpy(&stored_crc, bytes.data() + body, sizeof(stored_crc));

  Reader r(bytes, body, path);
  r.get<std::array<char, sizeof(kMagic)>>("magic");
  const auto version = r.get<std::uint32_t>("version");
  if (version != kVersion) {
    throw Error(fmt::format("{}: model file version {} is not supported (this build reads version {})", where, version,
                            kVersion));
  }
  if (crc_of(bytes.data(), body) != stored_crc) {
    throw Error(fmt::format("{}: checksum mismatch: the model file is corrupt or truncated", where));
  }

  LoadedModel loaded;
  const std::string name = r.get_string("model name");
  ModelOptions& o = loaded.options;
  o.output_scale = r.get<float>("output scale");
  o.dropout = r.get<float>("dropout");
  const auto init = r.get<std::uint8_t>("rnl init");
  if (init > static_cast<std::uint8_t>(RnlInit::keras_uniform))
    throw Error(fmt::format("{}: bad rnl init code {}", where, init));
  o.rnl.init = static_cast<RnlInit>(init);
  o.rnl.gain = r.get<float>("rnl gain");
  o.seed_init = r.get<std::uint8_t>("seed init") != 0;
  if (!std::isfinite(o.output_scale) || !(o.dropout >= 0.0F && o.dropout < 1.0F)) {
    throw Error(fmt::format("{}: invalid model options", where));
  }
  try {
    loaded.model = make_model(name, o);
  } catch (const Error& e) {
    throw Error(fmt::format("{}: {}", where, e.what()));
  }
  const auto count = r.get<std::uint64_t>("parameter count");
  if (count != loaded.model->parameter_count()) {
    throw Error(
        fmt::format("{}: holds {} parameters, model {} has {}", where, count, name, loaded.model->parameter_count()));
  }
  const auto n_segments = r.get<std::uint32_t>("segment count");
  const auto& expected = loaded.model->layout().segments();
  if (n_segments != expected.size()) {
    throw Error(fmt::format("{}: holds {} tensors, model {} has {}", where, n_segments, name, expected.size()));
  }
  for (const Segment& s : expected) {
    const std::string seg_name = r.get_string("segment name");
    const auto offset = r.get<std::uint64_t>("segment offset");
    const auto rows = r.get<std::uint64_t>("segment rows");
    const auto cols = r.get<std::uint64_t>("segment cols");
    const bool non_negative = r.get<std::uint8_t>("segment flags") != 0;
    if (seg_name != s.name || offset != s.offset || rows != s.rows || cols != s.cols ||
        non_negative != s.non_negative) {
      throw Error(fmt::format("{}: tensor '{}' does not match model {} (expected '{}' {}x{} at {})", where, seg_name,
                              name, s.name, s.rows, s.cols, s.offset));
    }
  }
  loaded.parameters.resize(count);
  r.get_floats(loaded.parameters);
  if (r.remaining() != 0) throw Error(fmt::format("{}: {} unexpected trailing bytes", where, r.remaining()));
  for (const Segment& s : expected) {
    for (std::size_t i = s.offset; i < s.offset + s.size(); ++i) {
      const float v = loaded.parameters[i];
      if (!std::isfinite(v) || (s.non_negative && v < 0.0F)) {
        throw Error(
            fmt::format("{}: tensor '{}' holds an invalid value {} at index {}", where, s.name, v, i - s.offset));
      }
    }
  }
  return loaded;
}

}  // namespace rnn
