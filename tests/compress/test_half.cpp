#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>

#include "rnn/compress/half.hpp"
#include "rnn/core/rng.hpp"

namespace rnn {

TEST_CASE("every finite half converts to float and back unchanged") {
  for (std::uint32_t bits = 0; bits <= 0xFFFFU; ++bits) {
    const auto h = static_cast<std::uint16_t>(bits);
    if (!half_is_finite(h)) continue;
    REQUIRE(float_to_half(half_to_float(h)) == h);
  }
}

TEST_CASE("float to half rounds to nearest even and saturates") {
  CHECK(float_to_half(1.0F) == 0x3C00U);
  CHECK(float_to_half(-2.0F) == 0xC000U);
  CHECK(float_to_half(65504.0F) == 0x7BFFU);
  CHECK(float_to_half(1e6F) == 0x7BFFU);  // beyond the range: largest finite, not infinity
  CHECK(float_to_half(-1e30F) == 0xFBFFU);
  CHECK(float_to_half(std::ldexp(1.0F, -24)) == 0x0001U);         // smallest subnormal
  CHECK(float_to_half(std::ldexp(1.0F, -25)) == 0x0000U);         // exactly half of it: ties to even (0)
  CHECK(float_to_half(std::ldexp(3.0F, -26)) == 0x0001U);         // 0.75 of it rounds up
  CHECK(float_to_half(1.0F + std::ldexp(1.0F, -11)) == 0x3C00U);  // tie between 0x3C00 and 0x3C01: even
  CHECK(float_to_half(1.0F + std::ldexp(3.0F, -11)) == 0x3C02U);  // tie between 0x3C01 and 0x3C02: even
  CHECK(std::isnan(half_to_float(float_to_half(std::numeric_limits<float>::quiet_NaN()))));
  CHECK(half_to_float(0x7C00U) == std::numeric_limits<float>::infinity());
}

#ifdef __FLT16_MAX__
TEST_CASE("float to half agrees with the compiler's _Float16 conversion inside the range") {
  Rng rng(5);
  for (int trial = 0; trial < 200000; ++trial) {
    // Magnitudes from deep subnormal to the top of the half range.
    const float value = (rng.uniform() < 0.5F ? -1.0F : 1.0F) *
                        std::ldexp(rng.uniform(1.0F, 2.0F), static_cast<int>(rng.below(43)) - 27);
    if (std::fabs(value) >= 65520.0F) continue;
    const auto expected = static_cast<float>(static_cast<_Float16>(value));
    REQUIRE(half_to_float(float_to_half(value)) == expected);
  }
}
#endif

}  // namespace rnn
