#include "rnn/core/rng.hpp"

#include <cmath>
#include <numbers>

#include "rnn/core/error.hpp"

namespace rnn {
namespace {

std::uint64_t splitmix64(std::uint64_t& x) {
  std::uint64_t z = (x += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30U)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27U)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31U);
}

__extension__ using Uint128 = unsigned __int128;  // GCC/Clang extension, for Lemire's method

std::uint64_t rotl(std::uint64_t x, int k) {
  return (x << k) | (x >> (64 - k));
}

}  // namespace

Rng::Rng(std::uint64_t seed, std::uint64_t stream) {
  std::uint64_t x = seed ^ (0xD1B54A32D192ED03ULL * (stream + 1));
  for (auto& word : s_) word = splitmix64(x);
}

std::uint64_t Rng::next_u64() {
  const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const std::uint64_t t = s_[1] << 17U;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

void Rng::restore(const std::array<std::uint64_t, 4>& state) {
  // xoshiro's one forbidden state: it would stay zero forever.
  if ((state[0] | state[1] | state[2] | state[3]) == 0) throw Error("random stream state is all zeros");
  for (std::size_t i = 0; i < 4; ++i) s_[i] = state[i];
}

float Rng::uniform() {
  return static_cast<float>(next_u64() >> 40U) * 0x1.0p-24F;
}

float Rng::uniform(float lo, float hi) {
  return lo + (hi - lo) * uniform();
}

std::uint64_t Rng::below(std::uint64_t bound) {
  // Lemire's multiply-shift with rejection: unbiased, one multiplication in the common case.
  Uint128 m = static_cast<Uint128>(next_u64()) * bound;
  auto low = static_cast<std::uint64_t>(m);
  if (low < bound) {
    const std::uint64_t threshold = -bound % bound;
    while (low < threshold) {
      m = static_cast<Uint128>(next_u64()) * bound;
      low = static_cast<std::uint64_t>(m);
    }
  }
  return static_cast<std::uint64_t>(m >> 64U);
}

float Rng::normal() {
  const double u1 = (static_cast<double>(next_u64() >> 11U) + 1.0) * 0x1.0p-53;  // (0, 1]
  const double u2 = static_cast<double>(next_u64() >> 11U) * 0x1.0p-53;
  return static_cast<float>(std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2));
}

float Rng::truncated_normal(float stddev) {
  for (;;) {
    const float z = normal();
    if (std::fabs(z) <= 2.0F) return z * stddev;
  }
}

double Rng::gamma(double shape) {
  // Marsaglia & Tsang, "A simple method for generating gamma variables" (ACM TOMS 2000): a
  // squeeze-and-reject on a cubed normal, for shape ≥ 1; below 1 the Gamma(shape + 1) variate is
  // scaled by U^(1/shape).
  if (shape < 1.0) {
    const double u = (static_cast<double>(next_u64() >> 11U) + 1.0) * 0x1.0p-53;  // (0, 1]
    return gamma(shape + 1.0) * std::pow(u, 1.0 / shape);
  }
  const double d = shape - 1.0 / 3.0;
  const double c = 1.0 / std::sqrt(9.0 * d);
  for (;;) {
    double x = 0.0;
    double v = 0.0;
    do {
      x = normal();
      v = 1.0 + c * x;
    } while (v <= 0.0);
    v = v * v * v;
    const double u = static_cast<double>(next_u64() >> 11U) * 0x1.0p-53;
    if (u < 1.0 - 0.0331 * x * x * x * x) return d * v;
    if (std::log(u) < 0.5 * x * x + d * (1.0 - v + std::log(v))) return d * v;
  }
}

}  // namespace rnn
