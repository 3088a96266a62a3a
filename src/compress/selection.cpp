#include "rnn/compress/selection.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <utility>

#include "rnn/core/error.hpp"
#include "rnn/core/finite.hpp"

namespace rnn {

namespace {

constexpr std::size_t kSample = 4096;

// Keeps, in index order, the entries of `indices` whose magnitude is among the k largest of
// `magnitudes` (the same entries' magnitudes, in any order; reordered here). Ties at the k-th
// magnitude go to the lowest indices.
void keep_top_k(std::span<const float> values, std::size_t k, std::vector<float>& magnitudes,
                std::vector<std::uint32_t>& indices) {
  const auto kth = magnitudes.begin() + static_cast<std::ptrdiff_t>(k - 1);
  std::nth_element(magnitudes.begin(), kth, magnitudes.end(), std::greater<>());
  const float threshold = *kth;
  // Entries before kth are ≥ threshold; those equal to it, plus kth itself, are the ties to keep.
  std::size_t ties = 1 + static_cast<std::size_t>(std::count(magnitudes.begin(), kth, threshold));
  std::size_t kept = 0;
  for (const std::uint32_t i : indices) {
    const float magnitude = std::fabs(values[i]);
    if (magnitude > threshold || (magnitude == threshold && ties > 0)) {
      if (magnitude == threshold) --ties;
      indices[kept++] = i;
    }
  }
  indices.resize(kept);
}

}  // namespace

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
  // nth_element needs a strict weak order, which NaN breaks (undefined behaviour, not just a wrong
  // answer); a memory that overflowed is reported instead. One vectorised pass, so that the scans
  // below need no per-value check.
  if (!all_finite(values)) throw Error("top-k selection over a non-finite value");
  if (n >= 8 * kSample && k <= n / 16) {
    // Large tensor, small k: estimate a threshold from a strided sample that about 2k entries
    // pass, keep only those in one scan, and select exactly among them. If the sample was
    // unlucky and fewer than k pass, fall back to selecting over everything.
    scratch.resize(kSample);
    const std::size_t stride = n / kSample;
    for (std::size_t j = 0; j < kSample; ++j) scratch[j] = std::fabs(values[j * stride]);
    const std::size_t rank = std::max<std::size_t>(16, (2 * k * kSample + n - 1) / n);
    std::nth_element(scratch.begin(), scratch.begin() + static_cast<std::ptrdiff_t>(rank - 1), scratch.end(),
                     std::greater<>());
    const float cut = scratch[rank - 1];
    scratch.clear();
    for (std::size_t i = 0; i < n; ++i) {
      const float magnitude = std::fabs(values[i]);
      if (cut > 0.0F ? magnitude >= cut : magnitude > 0.0F) {
        indices.push_back(static_cast<std::uint32_t>(i));
        scratch.push_back(magnitude);
      }
    }
    if (indices.size() >= k) {
      keep_top_k(values, k, scratch, indices);
      return;
    }
    indices.clear();
  }
  scratch.resize(n);
  indices.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    scratch[i] = std::fabs(values[i]);
    indices[i] = static_cast<std::uint32_t>(i);
  }
  keep_top_k(values, k, scratch, indices);
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
