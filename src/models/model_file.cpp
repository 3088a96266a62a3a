#include "rnn/models/model_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <new>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "rnn/core/atomic_file.hpp"
#include "rnn/core/byte_io.hpp"
#include "rnn/core/error.hpp"

namespace rnn {
namespace {

constexpr std::string_view kMagic = "RNNLMODL";
constexpr std::uint32_t kVersion = 1;
constexpr std::uint8_t kLastInitCode = static_cast<std::uint8_t>(RnlInit::keras_uniform);

std::uint32_t crc_update(std::uint32_t crc, std::span<const std::uint8_t> bytes) {
  uLong c = crc;
  while (!bytes.empty()) {
    const auto chunk = std::min<std::size_t>(bytes.size(), std::size_t{1} << 30U);
    c = crc32(c, bytes.data(), static_cast<uInt>(chunk));
    bytes = bytes.subspan(chunk);
  }
  return static_cast<std::uint32_t>(c);
}

std::uint32_t crc_start() {
  return static_cast<std::uint32_t>(crc32(0L, Z_NULL, 0));
}

bool flag_of(wire::Reader& r, const char* what, const std::string& where) {
  const std::uint8_t v = r.u8(what);
  if (v > 1) throw Error(fmt::format("{}: {} is {}, expected 0 or 1", where, what, v));
  return v == 1;
}

struct SegmentEntry {
  std::string name;
  std::uint64_t offset = 0;
  std::uint64_t rows = 0;
  std::uint64_t cols = 0;
  bool non_negative = false;
};

// Everything before the parameters, as read; nothing in it is trusted yet.
struct Header {
  std::string name;
  ModelOptions options;
  std::uint8_t init_code = 0;
  std::uint64_t parameter_count = 0;
  std::vector<SegmentEntry> segments;
  std::size_t bytes = 0;  // where the parameters start
};

// `source` names the bytes in truncation messages: the whole file, or a prefix of a larger one.
Header read_header(std::span<const std::uint8_t> prefix, const std::string& source, const std::string& where) {
  wire::Reader r(prefix, source);
  const auto magic = r.take(kMagic.size(), "magic");
  if (!std::equal(magic.begin(), magic.end(), kMagic.begin())) {
    throw Error(fmt::format("{}: not an rnnl model file (bad magic)", where));
  }
  const std::uint32_t version = r.u32("version");
  if (version != kVersion) {
    throw Error(fmt::format("{}: model file version {} is not supported (this build reads version {})", where, version,
                            kVersion));
  }
  Header h;
  h.name = r.string("model name");
  h.options.output_scale = r.f32("output scale");
  h.options.dropout = r.f32("dropout");
  h.init_code = r.u8("rnl init");
  h.options.rnl.gain = r.f32("rnl gain");
  h.options.seed_init = flag_of(r, "seed init flag", where);
  h.parameter_count = r.u64("parameter count");
  const std::uint32_t segments = r.u32("segment count");
  // Entries are appended as they are read: the count is not trusted to size anything.
  for (std::uint32_t i = 0; i < segments; ++i) {
    SegmentEntry s;
    s.name = r.string("segment name");
    s.offset = r.u64("segment offset");
    s.rows = r.u64("segment rows");
    s.cols = r.u64("segment cols");
    s.non_negative = flag_of(r, "segment flag", where);
    h.segments.push_back(std::move(s));
  }
  h.bytes = r.position();
  return h;
}

// A read-only descriptor, closed on scope exit.
class InputFile {
 public:
  InputFile(const std::filesystem::path& path, const std::string& where) : where_(where) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) throw Error(fmt::format("{}: cannot open model file: {}", where, std::strerror(errno)));
    struct stat st {};
    if (::fstat(fd_, &st) != 0) throw Error(fmt::format("{}: cannot read model file: {}", where, std::strerror(errno)));
    if (!S_ISREG(st.st_mode)) throw Error(fmt::format("{}: not a regular file", where));
    size_ = static_cast<std::uint64_t>(st.st_size);
  }
  ~InputFile() { ::close(fd_); }
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;
  InputFile(InputFile&&) = delete;
  InputFile& operator=(InputFile&&) = delete;

  [[nodiscard]] std::uint64_t size() const { return size_; }

  // Fills `out` from `offset`; a file that ends early (it shrank since fstat) is an error.
  void read_at(std::uint64_t offset, std::span<std::uint8_t> out) const {
    while (!out.empty()) {
      const ssize_t got = ::pread(fd_, out.data(), std::min<std::size_t>(out.size(), std::size_t{1} << 30U),
                                  static_cast<off_t>(offset));
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) throw Error(fmt::format("{}: read failed: {}", where_, std::strerror(errno)));
      if (got == 0) throw Error(fmt::format("{}: model file shrank while being read", where_));
      out = out.subspan(static_cast<std::size_t>(got));
      offset += static_cast<std::uint64_t>(got);
    }
  }

 private:
  const std::string& where_;
  int fd_ = -1;
  std::uint64_t size_ = 0;
};

}  // namespace

void check_model_options(const ModelOptions& o) {
  // Written as "inside" tests, so that NaN (which fails every comparison) is refused.
  if (!(o.output_scale >= kMinOutputScale && o.output_scale <= kMaxOutputScale)) {
    throw Error(fmt::format("output scale {} is outside [{}, {}]", o.output_scale, kMinOutputScale, kMaxOutputScale));
  }
  if (!(o.dropout >= 0.0F && o.dropout <= kMaxDropout)) {
    throw Error(fmt::format("dropout {} is outside [0, {}]", o.dropout, kMaxDropout));
  }
  if (!(o.rnl.gain >= kMinRnlGain && o.rnl.gain <= kMaxRnlGain)) {
    throw Error(fmt::format("rnl gain {} is outside [{}, {}]", o.rnl.gain, kMinRnlGain, kMaxRnlGain));
  }
  if (static_cast<unsigned>(o.rnl.init) > kLastInitCode) {
    throw Error(fmt::format("rnl init code {} is not a known initialisation", static_cast<unsigned>(o.rnl.init)));
  }
}

void save_model(const std::filesystem::path& path, const Model& model, const ModelOptions& options,
                std::span<const float> parameters) {
  const std::string where = path.string();
  if (parameters.size() != model.parameter_count()) {
    throw Error(
        fmt::format("{}: {} parameters given for a model of {}", where, parameters.size(), model.parameter_count()));
  }
  try {
    check_model_options(options);
  } catch (const Error& e) {
    throw Error(fmt::format("{}: not saved: {}", where, e.what()));
  }
  std::vector<std::uint8_t> bytes;
  bytes.insert(bytes.end(), kMagic.begin(), kMagic.end());
  wire::put_u32(bytes, kVersion);
  wire::put_string(bytes, model.name());
  wire::put_f32(bytes, options.output_scale);
  wire::put_f32(bytes, options.dropout);
  wire::put_u8(bytes, static_cast<std::uint8_t>(options.rnl.init));
  wire::put_f32(bytes, options.rnl.gain);
  wire::put_u8(bytes, options.seed_init ? 1 : 0);
  wire::put_u64(bytes, parameters.size());
  const auto& segments = model.layout().segments();
  wire::put_u32(bytes, static_cast<std::uint32_t>(segments.size()));
  for (const Segment& s : segments) {
    wire::put_string(bytes, s.name);
    wire::put_u64(bytes, s.offset);
    wire::put_u64(bytes, s.rows);
    wire::put_u64(bytes, s.cols);
    wire::put_u8(bytes, s.non_negative ? 1 : 0);
  }
  wire::put_f32s(bytes, parameters);
  wire::put_u32(bytes, crc_update(crc_start(), bytes));
  write_file_atomically(path, bytes);
}

LoadedModel load_model(const std::filesystem::path& path) {
  const std::string where = path.string();
  const InputFile file(path, where);

  // 1. The header alone, from a bounded prefix.
  std::vector<std::uint8_t> prefix(
      static_cast<std::size_t>(std::min<std::uint64_t>(file.size(), kMaxModelHeaderBytes)));
  file.read_at(0, prefix);
  const Header h = read_header(prefix,
                               prefix.size() == file.size()
                                   ? where + ": model file"
                                   : fmt::format("{}: model file header (first {} bytes)", where, prefix.size()),
                               where);

  // 2. The size the header declares, against the file's.
  const std::uint64_t body_limit = (file.size() - h.bytes) / sizeof(float);
  if (h.parameter_count > body_limit ||
      file.size() != h.bytes + h.parameter_count * sizeof(float) + sizeof(std::uint32_t)) {
    throw Error(fmt::format("{}: file has {} bytes but its header declares {} parameters: truncated or extended", where,
                            file.size(), h.parameter_count));
  }

  // 3. The options, as the command line would check them, and the model they rebuild.
  LoadedModel loaded;
  ModelOptions& o = loaded.options;
  o = h.options;
  if (h.init_code > kLastInitCode) throw Error(fmt::format("{}: bad rnl init code {}", where, h.init_code));
  o.rnl.init = static_cast<RnlInit>(h.init_code);
  try {
    check_model_options(o);
    loaded.model = make_model(h.name, o);
  } catch (const Error& e) {
    throw Error(fmt::format("{}: {}", where, e.what()));
  }
  const Model& model = *loaded.model;
  if (h.parameter_count != model.parameter_count()) {
    throw Error(fmt::format("{}: holds {} parameters, model {} has {}", where, h.parameter_count, h.name,
                            model.parameter_count()));
  }
  const auto& expected = model.layout().segments();
  if (h.segments.size() != expected.size()) {
    throw Error(
        fmt::format("{}: holds {} tensors, model {} has {}", where, h.segments.size(), h.name, expected.size()));
  }
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const SegmentEntry& got = h.segments[i];
    const Segment& s = expected[i];
    if (got.name != s.name || got.offset != s.offset || got.rows != s.rows || got.cols != s.cols ||
        got.non_negative != s.non_negative) {
      throw Error(fmt::format("{}: tensor '{}' does not match model {} (expected '{}' {}x{} at {})", where, got.name,
                              h.name, s.name, s.rows, s.cols, s.offset));
    }
  }

  // 4. The parameters (the file is now known to be exactly the model's size) and the checksum.
  std::vector<std::uint8_t> body;
  try {
    body.resize(static_cast<std::size_t>(file.size() - h.bytes));
    loaded.parameters.resize(h.parameter_count);
  } catch (const std::bad_alloc&) {
    throw Error(fmt::format("{}: not enough memory for {} parameters", where, h.parameter_count));
  }
  file.read_at(h.bytes, body);
  const std::span<const std::uint8_t> params_bytes = std::span<const std::uint8_t>(body).first(body.size() - 4);
  const std::uint32_t crc = crc_update(crc_update(crc_start(), std::span(prefix).first(h.bytes)), params_bytes);
  wire::Reader r(body, where);
  r.f32s(loaded.parameters, "parameters");
  if (r.u32("checksum") != crc) {
    throw Error(fmt::format("{}: checksum mismatch: the model file is corrupt or truncated", where));
  }
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
