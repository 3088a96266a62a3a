#pragma once
// How the parameter server keeps a non-negative weight (RNN W⁺, W⁻) non-negative under its step.
// The server stores and serves the weight w ≥ 0 itself; a map says in which coordinate u the step
// is taken, w = f(u):
//
//   clamp     u = w,                 f(u) = max(0, u)            dw/du = 1
//   square    u = √w,                f(u) = u²                   dw/du = 2u = 2√w
//   softplus  u = log(e^w − 1),      f(u) = log(1 + e^u)         dw/du = σ(u) = 1 − e^(−w)
//
// A push carries ∂L/∂w; the server steps u with ∂L/∂u = ∂L/∂w · dw/du and writes w = f(u'). With
// `square` the plain step is multiplicative, w' = w (1 − 2α ∂L/∂w)², and a weight at 0 stays at 0;
// with `softplus` w approaches 0 but never reaches it. Both are functions of w alone, so nothing
// but w is stored, served or checkpointed. Weights below kFloor are treated as kFloor in u (the
// logarithm of softplus).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string_view>

namespace rnn {

enum class NonNegativeMap : std::uint8_t { clamp, square, softplus };

[[nodiscard]] NonNegativeMap parse_nonnegative_map(std::string_view name);  // "clamp", "square", "softplus"
[[nodiscard]] std::string_view to_string(NonNegativeMap map);

namespace nonnegative {

inline constexpr float kFloor = 1e-30F;

// u of a weight w ≥ 0.
[[nodiscard]] inline float coordinate(NonNegativeMap map, float w) {
  switch (map) {
    case NonNegativeMap::clamp: return w;
    case NonNegativeMap::square: return std::sqrt(std::max(w, 0.0F));
    case NonNegativeMap::softplus: {
      const float x = std::max(w, kFloor);
      return x > 20.0F ? x + std::log1p(-std::exp(-x)) : std::log(std::expm1(x));
    }
  }
  return w;
}

// dw/du at the weight w ≥ 0.
[[nodiscard]] inline float derivative(NonNegativeMap map, float w) {
  switch (map) {
    case NonNegativeMap::clamp: return 1.0F;
    case NonNegativeMap::square: return 2.0F * std::sqrt(std::max(w, 0.0F));
    case NonNegativeMap::softplus: return -std::expm1(-std::max(w, kFloor));
  }
  return 1.0F;
}

// The weight w = f(u).
[[nodiscard]] inline float weight(NonNegativeMap map, float u) {
  switch (map) {
    case NonNegativeMap::clamp: return std::max(u, 0.0F);
    case NonNegativeMap::square: return u * u;
    case NonNegativeMap::softplus: return u > 20.0F ? u + std::log1p(std::exp(-u)) : std::log1p(std::exp(u));
  }
  return u;
}

}  // namespace nonnegative
}  // namespace rnn
