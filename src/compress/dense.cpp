#include "rnn/compress/dense.hpp"

namespace rnn {

void DenseCompressor::compress_tensor(const Segment& /*segment*/, std::span<const float> gradient, TensorBlock& out) {
  out.dense = true;
  out.values.assign(gradient.begin(), gradient.end());
}

}  // namespace rnn
