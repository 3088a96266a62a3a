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
        for (int k = 0; k < c; ++k) {
          int best = ((2 * r) * w + 2 * col) * c + k;
          for (int dr = 0; dr < 2; ++dr) {
            for (int dc = 0; dc < 2; ++dc) {
              const int idx = ((2 * r + dr) * w + 2 * col + dc) * c + k;
              if (xb[idx] > xb[best]) best = idx;
            }
          }
          const int o = (r * out.width + col) * c + k;
          yb[o] = xb[best];
          ab[o] = best;
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
