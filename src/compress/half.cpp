#include "rnn/compress/half.hpp"

#include <bit>
#include <cmath>

namespace rnn {

std::uint16_t float_to_half(float value) {
  const auto bits = std::bit_cast<std::uint32_t>(value);
  const auto sign = static_cast<std::uint16_t>((bits >> 16U) & 0x8000U);
  const std::uint32_t magnitude = bits & 0x7FFFFFFFU;
  if (magnitude > 0x7F800000U) return static_cast<std::uint16_t>(sign | 0x7E00U);          // NaN stays NaN
  constexpr std::uint16_t largest_finite = 0x7BFFU;                                        // 65504
  if (magnitude >= 0x477FF000U) return static_cast<std::uint16_t>(sign | largest_finite);  // rounds past 65504
  const int exponent = static_cast<int>(magnitude >> 23U) - 127;
  std::uint32_t mantissa = magnitude & 0x7FFFFFU;
  if (exponent >= -14) {  // normal half: keep 10 of 23 mantissa bits, round to nearest even
    std::uint32_t half = (static_cast<std::uint32_t>(exponent + 15) << 10U) | (mantissa >> 13U);
    const std::uint32_t rest = mantissa & 0x1FFFU;
    if (rest > 0x1000U || (rest == 0x1000U && (half & 1U) != 0)) ++half;  // a carry into the exponent is right
    return static_cast<std::uint16_t>(sign | half);
  }
  if (exponent < -25) return sign;  // below half the smallest subnormal: rounds to zero
  // Subnormal half: value = m · 2^-24 with m = (1.mantissa) · 2^(exponent + 24).
  mantissa |= 0x800000U;
  const auto shift = static_cast<std::uint32_t>(-exponent - 1);  // 14 … 24
  std::uint32_t half = mantissa >> shift;
  const std::uint32_t rest = mantissa & ((1U << shift) - 1U);
  const std::uint32_t midpoint = 1U << (shift - 1U);
  if (rest > midpoint || (rest == midpoint && (half & 1U) != 0)) ++half;
  return static_cast<std::uint16_t>(sign | half);
}

float half_to_float(std::uint16_t bits) {
  const std::uint32_t sign = static_cast<std::uint32_t>(bits & 0x8000U) << 16U;
  const std::uint32_t exponent = (bits >> 10U) & 0x1FU;
  const std::uint32_t mantissa = bits & 0x3FFU;
  if (exponent == 0x1FU) return std::bit_cast<float>(sign | 0x7F800000U | (mantissa << 13U));
  if (exponent == 0) {
    const float magnitude = std::ldexp(static_cast<float>(mantissa), -24);  // exact
    return sign != 0 ? -magnitude : magnitude;
  }
  return std::bit_cast<float>(sign | ((exponent + 112U) << 23U) | (mantissa << 13U));
}

}  // namespace rnn
