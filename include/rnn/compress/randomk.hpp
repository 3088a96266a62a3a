#pragma once
// `randomk`: k = max(1, floor(c·n)) entries of each tensor chosen uniformly without replacement,
// values unscaled (the random-k sparsifier of Stich, Cordonnier, Jaggi, "Sparsified SGD with
// memory", NeurIPS 2018, there paired with error feedback). Selection sampling (Knuth, TAOCP
// vol. 2, Algorithm S) visits the tensor once, needs no extra memory and yields sorted indices.
// The stream is seeded per worker, so a run reproduces.
#include "rnn/compress/compressor.hpp"
#include "rnn/core/rng.hpp"

namespace rnn {

class RandomKCompressor final : public TensorCompressor {
 public:
  RandomKCompressor(const ParameterLayout& layout, double ratio, std::uint64_t seed, std::uint64_t stream);
  [[nodiscard]] std::string_view name() const override { return "randomk"; }
  void save_state(std::vector<std::uint8_t>& out) const override;
  void load_state(wire::Reader& in) override;

 protected:
  void compress_tensor(const Segment& segment, std::span<const float> gradient, TensorBlock& out) override;

 private:
  double ratio_;
  Rng rng_;
};

}  // namespace rnn
