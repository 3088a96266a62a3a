#pragma once
// An exclusive lock on a study's output folder for as long as an rnnl-study call writes there, so
// that two calls on one folder cannot run the same runs twice or interleave their summaries. The
// lock is flock(2) on <folder>/.rnnl-study.lock, which holds the owner's process id; the kernel
// releases it when the process ends, however it ends, so a crash leaves no stale lock.
#include <filesystem>

namespace rnn::study {

class FolderLock {
 public:
  // Creates the folder if needed and takes the lock; throws rnn::Error naming the folder (and the
  // process holding it, when known) if another process has it.
  explicit FolderLock(const std::filesystem::path& folder);
  ~FolderLock();
  FolderLock(const FolderLock&) = delete;
  FolderLock& operator=(const FolderLock&) = delete;
  FolderLock(FolderLock&&) = delete;
  FolderLock& operator=(FolderLock&&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace rnn::study
