#include "rnn/core/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "rnn/core/error.hpp"

namespace rnn {
namespace fs = std::filesystem;

namespace {

[[noreturn]] void fail(const fs::path& path, std::string_view problem, int error) {
  throw Error(fmt::format("{}: {}: {}", path.string(), problem, std::strerror(error)));
}

fs::path folder_of(const fs::path& path) {
  const fs::path parent = path.parent_path();
  return parent.empty() ? fs::path(".") : parent;
}

void require_file_name(const fs::path& path) {
  const fs::path name = path.filename();
  if (name.empty() || name == "." || name == "..") {
    throw Error(fmt::format("{}: not a file name (the path ends in a folder)", path.string()));
  }
}

// The process umask, read without changing it (umask(2) can only be read by setting it, which
// would race with other threads creating files).
mode_t process_umask() {
  static const mode_t mask = [] {
    std::ifstream status("/proc/self/status");
    for (std::string line; std::getline(status, line);) {
      if (line.starts_with("Umask:")) {
        try {
          return static_cast<mode_t>(std::stoul(line.substr(6), nullptr, 8) & 0777U);
        } catch (const std::exception&) {
          break;
        }
      }
    }
    return static_cast<mode_t>(022);
  }();
  return mask;
}

// While any SignalDeferral is alive, SIGINT, SIGTERM and SIGHUP are caught and noted instead of
// acting; when the last one ends, the previous dispositions come back and each noted signal is
// raised again, so it acts (terminates, or runs the program's own handler) once the temporary is
// renamed or removed. Signals that are blocked or ignored are unaffected; SIGKILL cannot be held.
constexpr std::array<int, 3> kDeferredSignals = {SIGINT, SIGTERM, SIGHUP};
volatile std::sig_atomic_t g_noted[kDeferredSignals.size()] = {};
std::mutex g_deferral_mutex;
int g_deferrals = 0;
std::array<struct sigaction, kDeferredSignals.size()> g_saved_actions{};

void note_signal(int signal) {
  for (std::size_t i = 0; i < kDeferredSignals.size(); ++i) {
    if (kDeferredSignals[i] == signal) g_noted[i] = 1;
  }
}

class SignalDeferral {
 public:
  SignalDeferral() {
    const std::lock_guard lock(g_deferral_mutex);
    if (g_deferrals++ > 0) return;
    struct sigaction note {};
    note.sa_handler = note_signal;
    note.sa_flags = SA_RESTART;
    sigemptyset(&note.sa_mask);
    for (const int signal : kDeferredSignals) sigaddset(&note.sa_mask, signal);
    for (std::size_t i = 0; i < kDeferredSignals.size(); ++i) {
      g_noted[i] = 0;
      ::sigaction(kDeferredSignals[i], &note, &g_saved_actions[i]);
    }
  }
  ~SignalDeferral() {
    std::array<bool, kDeferredSignals.size()> raise_again{};
    {
      const std::lock_guard lock(g_deferral_mutex);
      if (--g_deferrals > 0) return;
      for (std::size_t i = 0; i < kDeferredSignals.size(); ++i) {
        ::sigaction(kDeferredSignals[i], &g_saved_actions[i], nullptr);
        raise_again[i] = g_noted[i] != 0;
      }
    }
    // Outside the lock: a handler that runs now may itself write a file.
    for (std::size_t i = 0; i < kDeferredSignals.size(); ++i) {
      if (raise_again[i]) ::raise(kDeferredSignals[i]);
    }
  }
  SignalDeferral(const SignalDeferral&) = delete;
  SignalDeferral& operator=(const SignalDeferral&) = delete;
  SignalDeferral(SignalDeferral&&) = delete;
  SignalDeferral& operator=(SignalDeferral&&) = delete;
};

// A temporary file that is closed and removed unless release()d.
class Temporary {
 public:
  explicit Temporary(const fs::path& target) {
    require_file_name(target);
    const std::string pattern =
        (folder_of(target) / fmt::format(".{}.tmp.XXXXXX", target.filename().string())).string();
    std::vector<char> name(pattern.begin(), pattern.end());
    name.push_back('\0');
    fd_ = ::mkostemp(name.data(), O_CLOEXEC);
    if (fd_ < 0) fail(target, fmt::format("cannot create a file in {}", folder_of(target).string()), errno);
    name_.assign(name.data());
  }
  ~Temporary() {
    if (fd_ >= 0) ::close(fd_);
    if (!name_.empty()) ::unlink(name_.c_str());
  }
  Temporary(const Temporary&) = delete;
  Temporary& operator=(const Temporary&) = delete;
  Temporary(Temporary&&) = delete;
  Temporary& operator=(Temporary&&) = delete;

  [[nodiscard]] int fd() const { return fd_; }
  [[nodiscard]] const std::string& name() const { return name_; }

  // The file now lives under the target's name: nothing to remove. Returns the descriptor, which
  // the caller owns.
  int release() {
    name_.clear();
    return std::exchange(fd_, -1);
  }

 private:
  int fd_ = -1;
  std::string name_;
};

// Writes all n bytes at the descriptor's position; returns 0 or the errno of the failure. A
// write that makes no progress counts as a full disk.
int write_all(int fd, const std::uint8_t* data, std::size_t n) {
  while (n > 0) {
    const ssize_t written = ::write(fd, data, n);
    if (written < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (written == 0) return ENOSPC;
    data += written;
    n -= static_cast<std::size_t>(written);
  }
  return 0;
}

void sync_folder(const fs::path& target) {
  const fs::path folder = folder_of(target);
  const int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) fail(target, fmt::format("written, but cannot open its folder {} to sync it", folder.string()), errno);
  const int rc = ::fsync(fd);
  const int error = errno;
  ::close(fd);
  // Some file systems cannot sync a folder at all; they report EINVAL and there is nothing to wait for.
  if (rc != 0 && error != EINVAL && error != ENOTSUP) {
    fail(target, fmt::format("written, but syncing its folder {} failed", folder.string()), error);
  }
}

// write_file_atomically; returns the open descriptor of the published file if keep_open.
int publish(const fs::path& path, std::span<const std::uint8_t> bytes, bool keep_open) {
  const SignalDeferral deferral;  // outlives tmp: no signal acts while the temporary exists
  Temporary tmp(path);
  if (const int error = write_all(tmp.fd(), bytes.data(), bytes.size()); error != 0) fail(path, "write failed", error);
  if (::fchmod(tmp.fd(), 0666 & ~process_umask()) != 0) fail(path, "cannot set permissions", errno);
  if (::fsync(tmp.fd()) != 0) fail(path, "fsync failed", errno);
  if (::rename(tmp.name().c_str(), path.c_str()) != 0) {
    fail(path, fmt::format("cannot rename {} over it", fs::path(tmp.name()).filename().string()), errno);
  }
  int fd = tmp.release();
  if (!keep_open) {
    // Data and metadata are synced already; an error from close cannot mean lost data here.
    ::close(fd);
    fd = -1;
  }
  try {
    sync_folder(path);
  } catch (...) {
    if (fd >= 0) ::close(fd);
    throw;
  }
  return fd;
}

// The folder with symlinks resolved where it exists and ".", ".." and trailing separators removed.
fs::path resolved_folder(const fs::path& path, std::error_code& ec) {
  fs::path folder = fs::weakly_canonical(fs::absolute(folder_of(path), ec), ec).lexically_normal();
  if (!folder.has_filename() && folder.has_parent_path() && folder != folder.root_path()) folder = folder.parent_path();
  return folder;
}

}  // namespace

void write_file_atomically(const fs::path& path, std::span<const std::uint8_t> bytes) {
  publish(path, bytes, false);
}

void write_file_atomically(const fs::path& path, std::string_view text) {
  write_file_atomically(path, std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

void check_writable(const fs::path& path) {
  if (path.empty()) throw Error("empty output path");
  require_file_name(path);
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) fail(path, "cannot write", EISDIR);
  const fs::path folder = folder_of(path);
  if (::stat(folder.c_str(), &st) != 0) fail(path, fmt::format("cannot use folder {}", folder.string()), errno);
  if (!S_ISDIR(st.st_mode)) fail(path, fmt::format("cannot use folder {}", folder.string()), ENOTDIR);
  // Creating (and removing) a real temporary is the one test that sees every cause: permissions,
  // ACLs, read-only mounts, exhausted inodes.
  const SignalDeferral deferral;
  const Temporary probe(path);
}

bool same_target(const fs::path& a, const fs::path& b) {
  if (a.filename() != b.filename()) return false;
  std::error_code ec_a;
  std::error_code ec_b;
  const fs::path folder_a = resolved_folder(a, ec_a);
  const fs::path folder_b = resolved_folder(b, ec_b);
  if (ec_a || ec_b) return fs::absolute(a).lexically_normal() == fs::absolute(b).lexically_normal();
  return folder_a == folder_b;
}

AppendFile::AppendFile(fs::path path) : path_(std::move(path)) {}

AppendFile::~AppendFile() {
  if (fd_ >= 0) ::close(fd_);
}

AppendFile::AppendFile(AppendFile&& other) noexcept
    : path_(std::move(other.path_)), fd_(std::exchange(other.fd_, -1)), size_(other.size_) {}

AppendFile& AppendFile::operator=(AppendFile&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    path_ = std::move(other.path_);
    fd_ = std::exchange(other.fd_, -1);
    size_ = other.size_;
  }
  return *this;
}

void AppendFile::append(std::string_view record) {
  const std::span bytes(reinterpret_cast<const std::uint8_t*>(record.data()), record.size());
  if (fd_ < 0) {
    const int fd = publish(path_, bytes, true);
    // The published file is this run's own inode: appending through the descriptor cannot be
    // redirected by whatever is later renamed or linked to the path.
    if (::fcntl(fd, F_SETFL, O_APPEND) != 0) {
      const int error = errno;
      ::close(fd);
      fail(path_, "cannot open for appending", error);
    }
    fd_ = fd;
    size_ = bytes.size();
    return;
  }
  int error = write_all(fd_, bytes.data(), bytes.size());
  if (error == 0 && ::fdatasync(fd_) != 0) error = errno;
  if (error != 0) {
    // Back to the last complete record. If even that fails, say so: the file may end mid-record.
    if (::ftruncate(fd_, static_cast<off_t>(size_)) != 0) {
      fail(path_, fmt::format("append failed ({}), and removing the partial record failed", std::strerror(error)),
           errno);
    }
    fail(path_, "append failed", error);
  }
  size_ += bytes.size();
}

}  // namespace rnn
