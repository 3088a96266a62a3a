#include "rnn/layers/standardize.hpp"

#include <cmath>
#include <vector>

namespace rnn {
namespace {

struct StandardizeState final : LayerState {
  std::vector<float> scale;        // s per sample
  std::vector<char> sigma_branch;  // whether s = σ (so s depends on x)
};

}  // namespace

std::unique_ptr<LayerState> Standardize::create_state(std::uint64_t /*stream*/) const {
  return std::make_unique<StandardizeState>();
}

void Standardize::forward(std::span<const float> /*params*/, const Matrix& x, Matrix& y, LayerState* state,
                          bool /*training*/) const {
  auto& st = static_cast<StandardizeState&>(*state);
  const Eigen::Index batch = x.rows();
  const auto n = static_cast<double>(x.cols());
  const double floor = 1.0 / std::sqrt(n);
  st.scale.resize(static_cast<std::size_t>(batch));
  st.sigma_branch.resize(static_cast<std::size_t>(batch));
  y.resize(batch, x.cols());
  for (Eigen::Index b = 0; b < batch; ++b) {
    double sum = 0.0;
    double sum_sq = 0.0;
    for (Eigen::Index i = 0; i < x.cols(); ++i) {
      const double v = x(b, i);
      sum += v;
      sum_sq += v * v;
    }
    const double mean = sum / n;
    const double sigma = std::sqrt(std::max(0.0, sum_sq / n - mean * mean));
    const bool sigma_branch = sigma > floor;
    const double s = sigma_branch ? sigma : floor;
    st.scale[static_cast<std::size_t>(b)] = static_cast<float>(s);
    st.sigma_branch[static_cast<std::size_t>(b)] = sigma_branch ? 1 : 0;
    y.row(b) = (x.row(b).array() - static_cast<float>(mean)) / static_cast<float>(s);
  }
}

void Standardize::backward(std::span<const float> /*params*/, const Matrix& /*x*/, const Matrix& y, const Matrix& dy,
                           Matrix* dx, std::span<float> /*grad*/, LayerState* state) const {
  if (dx == nullptr) return;
  const auto& st = static_cast<const StandardizeState&>(*state);
  const auto n = static_cast<float>(y.cols());
  dx->resize(y.rows(), y.cols());
  for (Eigen::Index b = 0; b < y.rows(); ++b) {
    const float g_mean = dy.row(b).sum() / n;
    const float gy_mean = st.sigma_branch[static_cast<std::size_t>(b)] != 0 ? dy.row(b).dot(y.row(b)) / n : 0.0F;
    dx->row(b) = (dy.row(b).array() - g_mean - y.row(b).array() * gy_mean) / st.scale[static_cast<std::size_t>(b)];
  }
}

}  // namespace rnn
