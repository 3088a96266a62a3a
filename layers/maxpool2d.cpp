#include "rnn/layers/maxpool2d.hpp"

#include <vector>

#include "rnn/core/error.hpp"

namespace rnn {
namespace {

struct PoolState final : LayerState {
  std::vector<int> argmax;  // per output element: index of the winning input within its sample row
};

}  // namespace

MaxPool2D::MaxPool2D(Shape input) : input_(input) {
  if (input.height < 2 || input.width < 2) throw Error("maxpool 2x2 needs an input of at least 2x2");
}

std::unique_ptr<LayerState> MaxPool2D::create_state(std::uint64_t /*stream*/) const {
  return std::make_unique<PoolState>();
}

void MaxPool2D::forward(std::span<const float> /*params*/, const Matrix& x, Matrix& y, LayerState* state,
                        bool /*training*/) const {
  auto& st = static_cast<PoolState&>(*state);
  const Shape out = output_shape();
  const int c = input_.channels;
  const int w = input_.width;
  const Eigen::Index batch = x.rows();
  const int out_size = out.size();
  y.resize(batch, out_size);
  st.argmax.resize(static_cast<std::size_t>(batch) * static_cast<std::size_t>(out_size));

#pragma omp parallel for schedule(static)
  for (Eigen::Index b = 0; b < batch; ++b) {
    const float* xb = x.row(b).data();
    float* yb = y.row(b).data();
    int* ab = st.argmax.data() + b * out_size;
    for (int r = 0; r < out.height; ++r) {
      for (int col = 0; col < out.width; ++col) {
        // The four inputs of a window, each a run of c channels: the loop over channels is
        // branch-free (selects), so it vectorises. A later input wins only if strictly greater:
        // the first maximum in (row, column) order, as the gradient routes it.
        const int i00 = ((2 * r) * w + 2 * col) * c;
        const int i01 = i00 + c;
        const int i10 = i00 + w * c;
        const int i11 = i10 + c;
        float* yo = yb + (r * out.width + col) * c;
        int* ao = ab + (r * out.width + col) * c;
        for (int k = 0; k < c; ++k) {
          float best = xb[i00 + k];
          int at = i00 + k;
          const auto consider = [&](int i) {
            const float v = xb[i + k];
            const bool greater = v > best;
            best = greater ? v : best;
            at = greater ? i + k : at;
          };
          consider(i01);
          consider(i10);
          consider(i11);
          yo[k] = best;
          ao[k] = at;
        }
      }
    }
  }
}

void MaxPool2D::backward(std::span<const float> /*params*/, const Matrix& x, const Matrix& /*y*/, const Matrix& dy,
                         Matrix* dx, std::span<float> /*grad*/, LayerState* state) const {
  if (dx == nullptr) return;
  const auto& st = static_cast<const PoolState&>(*state);
  const Eigen::Index batch = x.rows();
  const auto out_size = dy.cols();
  dx->resize(batch, x.cols());
  dx->setZero();
  for (Eigen::Index b = 0; b < batch; ++b) {
    const float* gb = dy.row(b).data();
    float* db = dx->row(b).data();
    const int* ab = st.argmax.data() + b * out_size;
    for (Eigen::Index o = 0; o < out_size; ++o) db[ab[o]] += gb[o];
  }
}

}  // namespace rnn
