#pragma once
// A fresh directory under the system temp folder, removed with everything in it on scope exit.
#include <filesystem>
#include <random>
#include <string>
#include <system_error>

namespace rnn::test {

class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "rnnl-test") {
    std::random_device rd;
    for (;;) {
      path_ = std::filesystem::temp_directory_path() / (prefix + "-" + std::to_string(rd()));
      if (std::filesystem::create_directory(path_)) break;
    }
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  TempDir(TempDir&&) = delete;
  TempDir& operator=(TempDir&&) = delete;

  [[nodiscard]] const std::filesystem::path& path() const { return path_; }
  [[nodiscard]] std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

}  // namespace rnn::test
