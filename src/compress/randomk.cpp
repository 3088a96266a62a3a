#include "rnn/compress/randomk.hpp"

#include "rnn/core/state_io.hpp"

namespace rnn {

RandomKCompressor::RandomKCompressor(const ParameterLayout& layout, double ratio, std::uint64_t seed,
                                     std::uint64_t stream)
    : TensorCompressor(layout), ratio_(ratio), rng_(seed, stream) {}

void RandomKCompressor::compress_tensor(const Segment& segment, std::span<const float> gradient, TensorBlock& out) {
  const std::size_t n = segment.size();
  std::size_t wanted = entries_to_send(ratio_, n);
  // Entry i is taken with probability wanted / (n − i): every k-subset is equally likely.
  for (std::size_t i = 0; i < n && wanted > 0; ++i) {
    if (rng_.below(n - i) < wanted) {
      out.indices.push_back(static_cast<std::uint32_t>(i));
      out.values.push_back(gradient[i]);
      --wanted;
    }
  }
}

void RandomKCompressor::save_state(std::vector<std::uint8_t>& out) const {
  wire::put_rng(out, rng_);
}

void RandomKCompressor::load_state(wire::Reader& in) {
  rng_ = wire::get_rng(in, "randomk random stream");
}

}  // namespace rnn
