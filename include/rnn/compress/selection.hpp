#pragma once
// Top-k selection by magnitude in linear expected time: one nth_element (introselect) over a
// scratch copy of |g| finds the k-th largest magnitude t, then one scan in index order keeps the
// entries above t and as many entries equal to t as k needs (lowest indices first). The output
// indices come out sorted, which the delta + varint encoding needs, with no sort.
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

namespace rnn {

// Writes the indices of the k entries of largest |values| into `indices` (ascending); ties go to
// the lower index. `scratch` is reused between calls. k ≥ values.size() selects everything.
// Throws rnn::Error on a non-finite value.
void select_top_k(std::span<const float> values, std::size_t k, std::vector<float>& scratch,
                  std::vector<std::uint32_t>& indices);

// The same selection by a full sort of (|value|, index) pairs: the O(n log n) reference the
// benchmark compares against, and the tests' oracle.
void select_top_k_by_sort(std::span<const float> values, std::size_t k,
                          std::vector<std::pair<float, std::uint32_t>>& scratch, std::vector<std::uint32_t>& indices);

}  // namespace rnn
