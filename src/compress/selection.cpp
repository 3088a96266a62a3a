#include "rnn/compress/selection.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <utility>

#include "rnn/core/error.hpp"

namespace rnn {

void select_top_k(std::span<const float> values, std::size_t k, std::vector<float>& scratch,
                  std::vector<std::uint32_t>& indices) {
  indices.clear();
  const std::size_t n = values.size();
  if (k == 0) return;
  if (k >= n) {
    indices.resize(n);
    for (std::size_t i = 0; i < n; ++i) indices[i] = static_cast<std::uint32_t>(i);
    return;
  }
  scratch.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    scratch[i] = std::fabs(values[i]);
    // nth_element needs a strict weak order, which NaN breaks (undefined behaviour, not just a
    // wrong answer); a memory that overflowed is reported instead.
    if (!(scratch[i] <= std::numeric_limits<float>::max())) throw Error("top-k selection over a non-finite value");
  }
  const auto kth = scratch.begin() + static_cast<std::ptrdiff_t>(k - 1);
  std::nth_element(scratch.begin(), kth, scratch.end(), std::greater<>());
  const float threshold = *kth;
  // Entries before kth are ≥ threshold; those equal to it, plus kth itself, are the ties to keep.
  std::size_t ties = 1 + static_cast<std::size_t>(std::count(scratch.begin(), kth, threshold));
  indices.reserve(k);
  for (std::size_t i = 0; i < n; ++i) {
    const float magnitude = std::fabs(values[i]);
    if (magnitude > threshold) {
      indices.push_back(static_cast<std::uint32_t>(i));
    } else if (magnitude == threshold && ties > 0) {
      --ties;
      indices.push_back(static_cast<std::uint32_t>(i));
    }
  }
}

void select_top_k_by_sort(std::span<const float> values, std::size_t k,
                          std::vector<std::pair<float, std::uint32_t>>& order, std::vector<std::uint32_t>& indices) {
  order.resize(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) order[i] = {std::fabs(values[i]), static_cast<std::uint32_t>(i)};
  // Larger magnitude first; among equals, the lower index first (the same tie rule as above).
  std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  });
  indices.clear();
  for (std::size_t j = 0; j < std::min(k, order.size()); ++j) indices.push_back(order[j].second);
  std::sort(indices.begin(), indices.end());
}

}  // namespace rnn
