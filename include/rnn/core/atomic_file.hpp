#pragma once
// How the project writes files: a reader of the target path sees the previous file or the new
// one, whole, never a mixture or a prefix.
//
// write_file_atomically(path, bytes):
//   1. creates a temporary ".<name>.tmp.XXXXXX" in the target's folder with mkstemp (a new, unique
//      file: O_EXCL, so a planted file or symlink under that name is never opened or followed),
//   2. writes every byte, fsyncs it, gives it mode 0666 minus the umask,
//   3. renames it over the target (a symlink at the target is replaced, not written through),
//   4. fsyncs the folder, so the rename itself survives a power cut.
//   Every failure (folder missing or read-only, disk full, I/O error, target is a directory)
//   removes the temporary and throws rnn::Error naming the target, with the system's reason.
//   Signals: SIGINT, SIGTERM and SIGHUP that arrive from step 1 until the temporary is renamed or
//   removed are held back and delivered right after (to the program's own handler if it has one,
//   else they terminate it as usual). The target is always the old or the new file. Only a kill
//   that cannot be caught (kill -9, a crash, power loss) during steps 1 to 3 leaves the temporary
//   ".<name>.tmp.XXXXXX" beside the target; nothing removes it later, and it is safe to delete.
//   Concurrent writers of one path do not corrupt it: the last rename wins.
//
// AppendFile: a file that grows by whole records (metrics). The path is not touched until the
// first record, which is published as above, so an earlier file at that path stays intact until
// the run has something to replace it with. Each later record is one write(2) on the published
// file (opened O_APPEND) followed by fdatasync; if the write fails or comes up short (disk full),
// the file is truncated back to its last complete record before the error is thrown. A record
// torn by kill -9 in the middle of its write is the only way to see a partial last line. A run
// that publishes the same path later replaces the name; this one keeps appending to its own file,
// which is then unlinked.
//
// check_writable(path): the checks a program runs before a long computation whose result it will
// write to path: the folder exists and a file can be created in it, and path is not a directory.
// same_target(a, b): whether writing a and writing b would replace the same folder entry.
#include <cstdint>
#include <filesystem>
#include <span>
#include <string_view>

namespace rnn {

void write_file_atomically(const std::filesystem::path& path, std::span<const std::uint8_t> bytes);
void write_file_atomically(const std::filesystem::path& path, std::string_view text);

// Throws rnn::Error "<path>: <problem>: <system reason>" if a write to path would fail for a
// reason that can be seen now: missing folder, a folder where no file can be created (read-only,
// no permission), or a directory at path itself. Leaves nothing behind.
void check_writable(const std::filesystem::path& path);

// True if a and b name the same entry of the same folder, however spelled: "x", "./x",
// "dir/../x", or through symlinked folders. A symlink as the last component is not resolved,
// because a write replaces the symlink rather than its target.
[[nodiscard]] bool same_target(const std::filesystem::path& a, const std::filesystem::path& b);

class AppendFile {
 public:
  // Touches nothing on disk.
  explicit AppendFile(std::filesystem::path path);
  ~AppendFile();
  AppendFile(AppendFile&& other) noexcept;
  AppendFile& operator=(AppendFile&& other) noexcept;
  AppendFile(const AppendFile&) = delete;
  AppendFile& operator=(const AppendFile&) = delete;

  // The first call replaces the file at path() with `record`; later calls append it. On failure
  // the file (or, before the first record, the earlier file) is left as it was and rnn::Error is
  // thrown.
  void append(std::string_view record);

  [[nodiscard]] const std::filesystem::path& path() const { return path_; }
  // Whether the first record has been written.
  [[nodiscard]] bool published() const { return fd_ >= 0; }

 private:
  std::filesystem::path path_;
  int fd_ = -1;
  std::uint64_t size_ = 0;  // bytes of complete records in the file
};

}  // namespace rnn
