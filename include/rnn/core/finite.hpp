#pragma once
// Whether every value of a span is finite, as one branch-free pass that the compiler vectorises: a
// float is finite iff its exponent bits are not all ones. Hot paths check a whole gradient or push
// with it once, then loop without per-value checks.
#include <bit>
#include <cstdint>
#include <span>

namespace rnn {

[[nodiscard]] inline bool all_finite(std::span<const float> values) {
  std::uint32_t any_non_finite = 0;
  for (const float v : values) {
    any_non_finite |= static_cast<std::uint32_t>((std::bit_cast<std::uint32_t>(v) & 0x7F800000U) == 0x7F800000U);
  }
  return any_non_finite == 0;
}

}  // namespace rnn
