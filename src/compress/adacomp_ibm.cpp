#include "rnn/compress/adacomp_ibm.hpp"

#include "rnn/core/state_io.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "rnn/core/error.hpp"

namespace rnn {

AdaCompIbmCompressor::AdaCompIbmCompressor(const ParameterLayout& layout, std::uint32_t conv_bin,
                                           std::uint32_t dense_bin)
    : TensorCompressor(layout), conv_bin_(conv_bin), dense_bin_(dense_bin), residue_(layout.size(), 0.0F) {}

void AdaCompIbmCompressor::compress_tensor(const Segment& segment, std::span<const float> gradient, TensorBlock& out) {
  const std::size_t bin = segment.name.starts_with("conv") ? conv_bin_ : dense_bin_;
  float* residue = residue_.data() + segment.offset;
  const std::size_t n = gradient.size();
  for (std::size_t i = 0; i < n; ++i) {
    residue[i] += gradient[i];
    if (!std::isfinite(residue[i]))
      throw Error(fmt::format("adacomp-ibm: the residue of '{}' overflowed", segment.name));
  }
  double gmax_sum = 0.0;
  std::size_t bins = 0;
  for (std::size_t start = 0; start < n; start += bin, ++bins) {
    const std::size_t end = std::min(n, start + bin);
    float gmax = 0.0F;
    for (std::size_t i = start; i < end; ++i) gmax = std::max(gmax, std::fabs(residue[i]));
    gmax_sum += gmax;
    if (gmax == 0.0F) continue;
    for (std::size_t i = start; i < end; ++i) {
      if (std::fabs(residue[i] + gradient[i]) >= gmax) {
        out.indices.push_back(static_cast<std::uint32_t>(i));
        out.values.push_back(residue[i]);
      }
    }
  }
  if (out.values.empty()) return;
  const auto scale = static_cast<float>(gmax_sum / static_cast<double>(bins));
  for (auto& v : out.values) v = std::signbit(v) ? -scale : scale;
  out.set_grid(ValueGrid::sign, scale);
}

void AdaCompIbmCompressor::commit(const Message& delivered) {
  for_each_entry(delivered, layout(), [&](std::size_t i, float sent) { residue_[i] -= sent; });
}

void AdaCompIbmCompressor::save_state(std::vector<std::uint8_t>& out) const {
  wire::put_floats(out, residue_);
}

void AdaCompIbmCompressor::load_state(wire::Reader& in) {
  residue_ = wire::get_floats(in, residue_.size(), "adacomp-ibm residue");
}

}  // namespace rnn
