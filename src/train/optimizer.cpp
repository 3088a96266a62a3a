#include "rnn/train/optimizer.hpp"

#include <cmath>
#include <vector>

#include <fmt/format.h>

#include "rnn/core/error.hpp"

namespace rnn {
namespace {

using Index = std::ptrdiff_t;

class Sgd final : public Optimizer {
 public:
  Sgd(const OptimizerOptions& options, std::size_t n) : Optimizer(options), velocity_(options.momentum > 0 ? n : 0) {}

  void step(std::span<float> params, std::span<const float> grad) override {
    const auto n = static_cast<Index>(params.size());
    const float lr = options_.learning_rate;
    float* p = params.data();
    const float* g = grad.data();
    if (velocity_.empty()) {
#pragma omp parallel for simd schedule(static)
      for (Index i = 0; i < n; ++i) p[i] -= lr * g[i];
      return;
    }
    const float mu = options_.momentum;
    float* v = velocity_.data();
#pragma omp parallel for simd schedule(static)
    for (Index i = 0; i < n; ++i) {
      v[i] = mu * v[i] + g[i];
      p[i] -= lr * v[i];
    }
  }

 private:
  std::vector<float> velocity_;
};

class Adam final : public Optimizer {
 public:
  Adam(const OptimizerOptions& options, std::size_t n) : Optimizer(options), m_(n, 0.0F), v_(n, 0.0F) {}

  void step(std::span<float> params, std::span<const float> grad) override {
    ++t_;
    const auto n = static_cast<Index>(params.size());
    const float b1 = options_.beta1;
    const float b2 = options_.beta2;
    const float eps = options_.epsilon;
    // Bias corrections folded into the step size (as in the paper's efficient form).
    const double c1 = 1.0 - std::pow(static_cast<double>(b1), static_cast<double>(t_));
    const double c2 = 1.0 - std::pow(static_cast<double>(b2), static_cast<double>(t_));
    const auto step = static_cast<float>(options_.learning_rate * std::sqrt(c2) / c1);
    const auto eps_hat = static_cast<float>(eps * std::sqrt(c2));
    float* p = params.data();
    const float* g = grad.data();
    float* m = m_.data();
    float* v = v_.data();
#pragma omp parallel for simd schedule(static)
    for (Index i = 0; i < n; ++i) {
      m[i] = b1 * m[i] + (1.0F - b1) * g[i];
      v[i] = b2 * v[i] + (1.0F - b2) * g[i] * g[i];
      p[i] -= step * m[i] / (std::sqrt(v[i]) + eps_hat);
    }
  }

 private:
  std::vector<float> m_;
  std::vector<float> v_;
  long t_ = 0;
};

class RmsProp final : public Optimizer {
 public:
  RmsProp(const OptimizerOptions& options, std::size_t n) : Optimizer(options), v_(n, 0.0F) {}

  void step(std::span<float> params, std::span<const float> grad) override {
    const auto n = static_cast<Index>(params.size());
    const float lr = options_.learning_rate;
    const float rho = options_.rho;
    const float eps = options_.epsilon;
    float* p = params.data();
    const float* g = grad.data();
    float* v = v_.data();
#pragma omp parallel for simd schedule(static)
    for (Index i = 0; i < n; ++i) {
      v[i] = rho * v[i] + (1.0F - rho) * g[i] * g[i];
      p[i] -= lr * g[i] / (std::sqrt(v[i]) + eps);
    }
  }

 private:
  std::vector<float> v_;
};

}  // namespace

std::unique_ptr<Optimizer> make_optimizer(const OptimizerOptions& options, std::size_t parameters) {
  if (!(options.learning_rate > 0.0F) || !std::isfinite(options.learning_rate)) {
    throw Error(fmt::format("learning rate must be a positive number, got {}", options.learning_rate));
  }
  switch (options.kind) {
    case OptimizerKind::sgd: return std::make_unique<Sgd>(options, parameters);
    case OptimizerKind::adam: return std::make_unique<Adam>(options, parameters);
    case OptimizerKind::rmsprop: return std::make_unique<RmsProp>(options, parameters);
  }
  throw Error("unknown optimizer");
}

OptimizerKind parse_optimizer(std::string_view name) {
  if (name == "sgd") return OptimizerKind::sgd;
  if (name == "adam") return OptimizerKind::adam;
  if (name == "rmsprop") return OptimizerKind::rmsprop;
  throw Error(fmt::format("unknown optimizer '{}' (choose one of: sgd, adam, rmsprop)", name));
}

std::string_view optimizer_name(OptimizerKind kind) {
  switch (kind) {
    case OptimizerKind::sgd: return "sgd";
    case OptimizerKind::adam: return "adam";
    case OptimizerKind::rmsprop: return "rmsprop";
  }
  return "?";
}

}  // namespace rnn
