#include "folder_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include <fmt/format.h>

#include "rnn/core/error.hpp"

namespace rnn::study {

FolderLock::FolderLock(const std::filesystem::path& folder) {
  std::filesystem::create_directories(folder);
  const std::filesystem::path path = folder / ".rnnl-study.lock";
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);  // NOLINT(cppcoreguidelines-pro-type-vararg)
  if (fd_ < 0) throw Error(fmt::format("{}: cannot open the lock file: {}", path.string(), std::strerror(errno)));
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int why = errno;
    std::string owner(32, '\0');
    const ssize_t n = ::pread(fd_, owner.data(), owner.size(), 0);
    owner.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    while (!owner.empty() && (owner.back() == '\n' || owner.back() == '\0')) owner.pop_back();
    ::close(fd_);
    fd_ = -1;
    if (why == EWOULDBLOCK)
      throw Error(fmt::format("{} is in use by another rnnl-study{}; wait for it to end, or use another --out",
                              folder.string(), owner.empty() ? "" : " (process " + owner + ")"));
    throw Error(fmt::format("{}: cannot lock: {}", path.string(), std::strerror(why)));
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd_, 0) == 0) (void)::pwrite(fd_, pid.data(), pid.size(), 0);
}

FolderLock::~FolderLock() {
  if (fd_ >= 0) ::close(fd_);  // releases the lock
}

}  // namespace rnn::study
