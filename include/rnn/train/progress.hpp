#pragma once
// A one-line progress bar on stderr, redrawn at most ~10 times a second, drawn only when
// stderr is a terminal (so logs and CI output stay clean).
#include <chrono>
#include <cstddef>
#include <string>

namespace rnn {

class ProgressBar {
 public:
  ProgressBar(std::string label, std::size_t total, bool enabled = true);
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;
  ProgressBar(ProgressBar&&) = delete;
  ProgressBar& operator=(ProgressBar&&) = delete;

  // Whether a call to update() now would draw (a terminal, and ~100 ms since the last draw):
  // callers check it before formatting a suffix, so a hidden bar costs nothing per step.
  [[nodiscard]] bool due(std::size_t done) const;
  void update(std::size_t done, const std::string& suffix = {});
  void finish();  // clears the line

 private:
  std::string label_;
  std::size_t total_;
  bool enabled_;
  std::chrono::steady_clock::time_point last_draw_{};
};

}  // namespace rnn
