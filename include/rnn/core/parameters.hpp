#pragma once
// One flat parameter vector per model, cut into named segments (one per tensor).
// Compressors select per segment, the parameter server tracks staleness per flat index,
// projections clamp the non-negative segments, and a checkpoint is a single write.
// Gradients use exactly the same layout.
#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "rnn/core/tensor.hpp"

namespace rnn {

struct Segment {
  std::string name;        // "<layer>.<tensor>", e.g. "rnl1.w_plus"
  std::size_t offset = 0;  // first index in the flat vector
  std::size_t rows = 0;    // stored row-major, rows x cols
  std::size_t cols = 0;
  bool non_negative = false;  // RNN weights: projected onto [0, inf) after every update
  [[nodiscard]] std::size_t size() const { return rows * cols; }
};

class ParameterLayout {
 public:
  // Appends a rows x cols tensor; returns its segment index.
  std::size_t add(std::string name, std::size_t rows, std::size_t cols, bool non_negative);

  [[nodiscard]] const std::vector<Segment>& segments() const { return segments_; }
  [[nodiscard]] const Segment& segment(std::size_t index) const { return segments_.at(index); }
  [[nodiscard]] const Segment* find(std::string_view name) const;
  [[nodiscard]] std::size_t size() const { return size_; }

 private:
  std::vector<Segment> segments_;
  std::size_t size_ = 0;
};

// Views of one segment inside a flat vector (parameters or gradient).
[[nodiscard]] inline ConstMatrixMap view(std::span<const float> flat, const Segment& s) {
  return {flat.data() + s.offset, static_cast<Eigen::Index>(s.rows), static_cast<Eigen::Index>(s.cols)};
}
[[nodiscard]] inline MatrixMap view(std::span<float> flat, const Segment& s) {
  return {flat.data() + s.offset, static_cast<Eigen::Index>(s.rows), static_cast<Eigen::Index>(s.cols)};
}

}  // namespace rnn
