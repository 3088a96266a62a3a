#pragma once
// Pieces of checkpoint state in the project's byte format (byte_io.hpp), shared by every object
// that saves and loads its state: a random stream, and a float vector whose length the loader
// already knows (a residual memory, optimizer moments). Loaders check what they read against what
// the object expects and throw rnn::Error naming the part; the caller's object is left unchanged
// when it reads into temporaries first.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "rnn/core/byte_io.hpp"
#include "rnn/core/error.hpp"
#include "rnn/core/rng.hpp"

namespace rnn::wire {

inline void put_rng(std::vector<std::uint8_t>& out, const Rng& rng) {
  for (const std::uint64_t word : rng.state()) put_u64(out, word);
}

[[nodiscard]] inline Rng get_rng(Reader& in, const char* what) {
  std::array<std::uint64_t, 4> state{};
  for (auto& word : state) word = in.u64(what);
  Rng rng(0);
  rng.restore(state);  // refuses the all-zero state
  return rng;
}

// A length, then the floats.
inline void put_floats(std::vector<std::uint8_t>& out, std::span<const float> values) {
  put_u64(out, values.size());
  put_f32s(out, values);
}

// Reads floats written by put_floats into a vector that must get exactly `expected` of them.
[[nodiscard]] inline std::vector<float> get_floats(Reader& in, std::size_t expected, const char* what) {
  const std::uint64_t n = in.u64(what);
  if (n != expected)
    throw Error(std::string(what) + ": " + std::to_string(n) + " values where " + std::to_string(expected) +
                " are expected");
  std::vector<float> values(expected);
  in.f32s(values, what);
  return values;
}

}  // namespace rnn::wire
