#pragma once
// Top-k selection by magnitude in linear expected time. For a large tensor and a small k (AdaComp's
// 1 %), a strided sample of 4096 magnitudes gives a cut that about 2k entries pass; one scan keeps
// those, and nth_element (introselect) among them finds the exact k-th largest magnitude t. Else,
// or if fewer than k passed the cut, nth_element runs over all of |g|. Either way the entries
// above t and as many equal to t as k needs (lowest indices first) are kept, in index order, so
// the output is sorted for the delta + varint encoding with no sort.
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
                          std::vector<std::pair<float, std::uint32_t>>& order, std::vector<std::uint32_t>& indices);

}  // namespace rnn
