#pragma once
// `none`: the dense push of plain asynchronous SGD (Downpour SGD, Dean et al., NIPS 2012): every
// entry of every tensor, unchanged. The baseline every byte count is compared with.
#include "rnn/compress/compressor.hpp"

namespace rnn {

class DenseCompressor final : public TensorCompressor {
 public:
  using TensorCompressor::TensorCompressor;
  [[nodiscard]] std::string_view name() const override { return "none"; }

 protected:
  void compress_tensor(const Segment& segment, std::span<const float> gradient, TensorBlock& out) override;
};

}  // namespace rnn
