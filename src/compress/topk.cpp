#include "rnn/compress/topk.hpp"

#include "rnn/compress/selection.hpp"

namespace rnn {

TopKCompressor::TopKCompressor(const ParameterLayout& layout, double ratio, std::string name)
    : TensorCompressor(layout), ratio_(ratio), name_(std::move(name)) {}

void TopKCompressor::compress_tensor(const Segment& segment, std::span<const float> gradient, TensorBlock& out) {
  select_top_k(gradient, entries_to_send(ratio_, segment.size()), scratch_, out.indices);
  out.values.resize(out.indices.size());
  for (std::size_t j = 0; j < out.indices.size(); ++j) out.values[j] = gradient[out.indices[j]];
}

}  // namespace rnn
