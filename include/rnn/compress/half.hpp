#pragma once
// IEEE 754 binary16 conversion for the codec's f16 value encoding. Rounding is to nearest,
// ties to even, as hardware converters do. Finite floats beyond the half range saturate at
// ±65504 instead of becoming infinities: an update must never carry an infinity to the server.
#include <cstdint>

namespace rnn {

[[nodiscard]] std::uint16_t float_to_half(float value);
[[nodiscard]] float half_to_float(std::uint16_t bits);
[[nodiscard]] inline bool half_is_finite(std::uint16_t bits) {
  return (bits & 0x7C00U) != 0x7C00U;
}

}  // namespace rnn
