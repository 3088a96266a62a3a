#include "rnn/layers/conv2d.hpp"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "rnn/core/error.hpp"
#include "rnn/core/gemm.hpp"

namespace rnn {
namespace {

struct ConvState final : LayerState {
  Matrix patches;   // im2col of the forward input
  Matrix dpatches;  // ∂L/∂patches
};

}  // namespace

Conv2D::Conv2D(Shape input, int filters, AffineInit init) : input_(input), filters_(filters), init_(init) {
  if (input.size() <= 0 || filters <= 0) throw Error("conv2d layer needs positive sizes");
}

std::string Conv2D::describe() const {
  return fmt::format("conv2d 3x3 {}x{}x{}->{}", input_.height, input_.width, input_.channels, filters_);
}

void Conv2D::declare_parameters(ParameterLayout& layout, const std::string& prefix) {
  const auto k = static_cast<std::size_t>(filters_);
  weight_offset_ =
      layout.segment(layout.add(prefix + ".weight", k, static_cast<std::size_t>(patch_size()), false)).offset;
  bias_offset_ = layout.segment(layout.add(prefix + ".bias", 1, k, false)).offset;
}

void Conv2D::initialise(std::span<float> params, Rng& rng) const {
  const auto n = static_cast<std::size_t>(filters_) * static_cast<std::size_t>(patch_size());
  fill_weights(params.subspan(weight_offset_, n), patch_size(), kKernel * kKernel * filters_, init_, rng);
  std::fill_n(params.data() + bias_offset_, filters_, init_.bias);
}

std::unique_ptr<LayerState> Conv2D::create_state(std::uint64_t /*stream*/) const {
  return std::make_unique<ConvState>();
}

void Conv2D::forward(std::span<const float> params, const Matrix& x, Matrix& y, LayerState* state,
                     bool /*training*/) const {
  auto& st = static_cast<ConvState&>(*state);
  const int h = input_.height;
  const int w = input_.width;
  const int c = input_.channels;
  const Eigen::Index batch = x.rows();
  const Eigen::Index pixels = static_cast<Eigen::Index>(h) * w;
  st.patches.resize(batch * pixels, patch_size());

#pragma omp parallel for schedule(static)
  for (Eigen::Index b = 0; b < batch; ++b) {
    const float* xb = x.row(b).data();
    for (int r = 0; r < h; ++r) {
      for (int col = 0; col < w; ++col) {
        float* dst = st.patches.row(b * pixels + r * w + col).data();
        for (int ky = 0; ky < kKernel; ++ky) {
          const int sr = r + ky - 1;
          for (int kx = 0; kx < kKernel; ++kx, dst += c) {
            const int sc = col + kx - 1;
            if (sr < 0 || sr >= h || sc < 0 || sc >= w) {
              std::fill_n(dst, c, 0.0F);
            } else {
              std::memcpy(dst, xb + (static_cast<std::ptrdiff_t>(sr) * w + sc) * c,
                          sizeof(float) * static_cast<std::size_t>(c));
            }
          }
        }
      }
    }
  }

  const ConstMatrixMap weight(params.data() + weight_offset_, filters_, patch_size());
  const Eigen::Map<const RowVector> bias(params.data() + bias_offset_, filters_);
  y.resize(batch, pixels * filters_);
  MatrixMap out(y.data(), batch * pixels, filters_);
  gemm(1.0F, st.patches, Op::none, weight, Op::transpose, 0.0F, out);
  out.rowwise() += bias;
}

void Conv2D::backward(std::span<const float> params, const Matrix& x, const Matrix& /*y*/, const Matrix& dy, Matrix* dx,
                      std::span<float> grad, LayerState* state) const {
  auto& st = static_cast<ConvState&>(*state);
  const int h = input_.height;
  const int w = input_.width;
  const int c = input_.channels;
  const Eigen::Index batch = x.rows();
  const Eigen::Index pixels = static_cast<Eigen::Index>(h) * w;
  const ConstMatrixMap g(dy.data(), batch * pixels, filters_);

  MatrixMap gw(grad.data() + weight_offset_, filters_, patch_size());
  gemm(1.0F, g, Op::transpose, st.patches, Op::none, 0.0F, gw);
  column_sums(g, grad.data() + bias_offset_);
  if (dx == nullptr) return;

  const ConstMatrixMap weight(params.data() + weight_offset_, filters_, patch_size());
  st.dpatches.resize(batch * pixels, patch_size());
  gemm(1.0F, g, Op::none, weight, Op::none, 0.0F, st.dpatches);
  dx->resize(batch, x.cols());
  dx->setZero();
#pragma omp parallel for schedule(static)
  for (Eigen::Index b = 0; b < batch; ++b) {
    float* dxb = dx->row(b).data();
    for (int r = 0; r < h; ++r) {
      for (int col = 0; col < w; ++col) {
        const float* src = st.dpatches.row(b * pixels + r * w + col).data();
        for (int ky = 0; ky < kKernel; ++ky) {
          const int sr = r + ky - 1;
          for (int kx = 0; kx < kKernel; ++kx, src += c) {
            const int sc = col + kx - 1;
            if (sr < 0 || sr >= h || sc < 0 || sc >= w) continue;
            float* dst = dxb + (static_cast<std::ptrdiff_t>(sr) * w + sc) * c;
            for (int ch = 0; ch < c; ++ch) dst[ch] += src[ch];
          }
        }
      }
    }
  }
}

}  // namespace rnn
