#include "rnn/train/progress.hpp"

#include <unistd.h>

#include <cstdio>

namespace rnn {

ProgressBar::ProgressBar(std::string label, std::size_t total, bool enabled)
    : label_(std::move(label)), total_(total), enabled_(enabled && isatty(fileno(stderr)) != 0) {}

ProgressBar::~ProgressBar() {
  finish();
}

bool ProgressBar::due(std::size_t done) const {
  if (!enabled_ || total_ == 0) return false;
  return done >= total_ || std::chrono::steady_clock::now() - last_draw_ >= std::chrono::milliseconds(100);
}

void ProgressBar::update(std::size_t done, const std::string& suffix) {
  if (!due(done)) return;
  last_draw_ = std::chrono::steady_clock::now();
  constexpr int kWidth = 30;
  const double fraction = static_cast<double>(done) / static_cast<double>(total_);
  const int filled = static_cast<int>(fraction * kWidth);
  std::string bar(static_cast<std::size_t>(filled), '#');
  bar.resize(kWidth, '.');
  std::fprintf(stderr, "\r%s [%s] %3.0f%% %s\033[K", label_.c_str(), bar.c_str(), 100.0 * fraction, suffix.c_str());
  std::fflush(stderr);
}

void ProgressBar::finish() {
  if (!enabled_) return;
  std::fprintf(stderr, "\r\033[K");
  std::fflush(stderr);
  enabled_ = false;
}

}  // namespace rnn
