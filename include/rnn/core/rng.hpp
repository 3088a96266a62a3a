#pragma once
// Reproducible random streams. Every consumer (initialiser, shuffler, dropout, worker) gets
// its own stream derived from the run seed and a stream id, so adding a consumer never
// shifts another's numbers. The generator and the distributions are ours (not the standard
// library's, whose distributions differ between implementations), so a seed reproduces a run
// on any platform.
#include <array>
#include <cstdint>
#include <span>

namespace rnn {

class Rng {
 public:
  explicit Rng(std::uint64_t seed, std::uint64_t stream = 0);

  std::uint64_t next_u64();                  // xoshiro256**
  float uniform();                           // [0, 1)
  float uniform(float lo, float hi);         // [lo, hi)
  std::uint64_t below(std::uint64_t bound);  // uniform integer in [0, bound), unbiased
  float normal();                            // standard normal (Box-Muller)
  float truncated_normal(float stddev);      // normal redrawn beyond 2 stddev (TensorFlow's rule)
  double gamma(double shape);                // Gamma(shape, 1), shape > 0 (Marsaglia & Tsang 2000)

  // The generator's whole state, for checkpoints: restore(state()) continues the same stream.
  [[nodiscard]] std::array<std::uint64_t, 4> state() const { return {s_[0], s_[1], s_[2], s_[3]}; }
  void restore(const std::array<std::uint64_t, 4>& state);  // throws rnn::Error for the all-zero state

  template <typename T>
  void shuffle(std::span<T> items) {
    for (std::size_t i = items.size(); i > 1; --i) {
      const std::size_t j = below(i);
      std::swap(items[i - 1], items[j]);
    }
  }

 private:
  std::uint64_t s_[4];
};

}  // namespace rnn
