#include "rnn/train/optimizer.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include <fmt/format.h>

#include "rnn/core/error.hpp"

namespace rnn {
namespace {

using Index = std::ptrdiff_t;

// Runs `update(i, g_i)` (which returns the new value of parameter i) over every range in one
// parallel region, clamping the non-negative ranges at zero. g_i is gathered from the shares
// with a loop the compiler can vectorise for the common counts (one share, or one per core).
template <typename Update>
void apply(const std::vector<ParameterRange>& ranges, float* p, std::span<const GradientShare> shares, Update update) {
  const auto run = [&](auto shared_gather) {
#pragma omp parallel
    {
      // Thread-local copies of the functors, so their captured constants and pointers live in
      // registers; read through the shared closures they were reloaded after every store to p, m
      // or v, which the compiler must assume may alias them.
      const auto gather = shared_gather;
      const auto step = update;
      for (const ParameterRange& r : ranges) {
        const auto begin = static_cast<Index>(r.begin);
        const auto end = static_cast<Index>(r.end);
        if (r.non_negative) {
#pragma omp for simd schedule(static) nowait
          for (Index i = begin; i < end; ++i) p[i] = std::max(0.0F, step(i, gather(i)));
        } else {
#pragma omp for simd schedule(static) nowait
          for (Index i = begin; i < end; ++i) p[i] = step(i, gather(i));
        }
      }
    }
  };
  if (shares.size() == 1) {
    const float* g0 = shares[0].grad;
    const float w0 = shares[0].weight;
    run([=](Index i) { return w0 * g0[i]; });
  } else if (shares.size() == 2) {
    const float* g0 = shares[0].grad;
    const float* g1 = shares[1].grad;
    const float w0 = shares[0].weight;
    const float w1 = shares[1].weight;
    run([=](Index i) { return w0 * g0[i] + w1 * g1[i]; });
  } else {
    run([=](Index i) {
      float sum = 0.0F;
      for (const GradientShare& s : shares) sum += s.weight * s.grad[i];
      return sum;
    });
  }
}

class Sgd final : public Optimizer {
 public:
  Sgd(const OptimizerOptions& options, std::vector<ParameterRange> ranges, std::size_t n)
      : Optimizer(options, std::move(ranges)), velocity_(options.momentum > 0 ? n : 0) {}

  using Optimizer::step;
  void step(std::span<float> params, std::span<const GradientShare> shares) override {
    const float lr = options_.learning_rate;
    float* p = params.data();
    if (velocity_.empty()) {
      apply(ranges_, p, shares, [=](Index i, float g) { return p[i] - lr * g; });
      return;
    }
    const float mu = options_.momentum;
    float* v = velocity_.data();
    apply(ranges_, p, shares, [=](Index i, float g) {
      v[i] = mu * v[i] + g;
      return p[i] - lr * v[i];
    });
  }

 private:
  std::vector<float> velocity_;
};

class Adam final : public Optimizer {
 public:
  Adam(const OptimizerOptions& options, std::vector<ParameterRange> ranges, std::size_t n)
      : Optimizer(options, std::move(ranges)), m_(n, 0.0F), v_(n, 0.0F) {}

  using Optimizer::step;
  void step(std::span<float> params, std::span<const GradientShare> shares) override {
    ++t_;
    const float b1 = options_.beta1;
    const float b2 = options_.beta2;
    // Bias corrections folded into the step size and ε (the paper's efficient form).
    const double c1 = 1.0 - std::pow(static_cast<double>(b1), static_cast<double>(t_));
    const double c2 = 1.0 - std::pow(static_cast<double>(b2), static_cast<double>(t_));
    const auto step = static_cast<float>(options_.learning_rate * std::sqrt(c2) / c1);
    const auto eps_hat = static_cast<float>(options_.epsilon * std::sqrt(c2));
    float* p = params.data();
    float* m = m_.data();
    float* v = v_.data();
    apply(ranges_, p, shares, [=](Index i, float g) {
      m[i] = b1 * m[i] + (1.0F - b1) * g;
      v[i] = b2 * v[i] + (1.0F - b2) * g * g;
      return p[i] - step * m[i] / (std::sqrt(v[i]) + eps_hat);
    });
  }

 private:
  std::vector<float> m_;
  std::vector<float> v_;
  long t_ = 0;
};

class RmsProp final : public Optimizer {
 public:
  RmsProp(const OptimizerOptions& options, std::vector<ParameterRange> ranges, std::size_t n)
      : Optimizer(options, std::move(ranges)), v_(n, 0.0F) {}

  using Optimizer::step;
  void step(std::span<float> params, std::span<const GradientShare> shares) override {
    const float lr = options_.learning_rate;
    const float rho = options_.rho;
    const float eps = options_.epsilon;
    float* p = params.data();
    float* v = v_.data();
    apply(ranges_, p, shares, [=](Index i, float g) {
      v[i] = rho * v[i] + (1.0F - rho) * g * g;
      return p[i] - lr * g / (std::sqrt(v[i]) + eps);
    });
  }

 private:
  std::vector<float> v_;
};

std::unique_ptr<Optimizer> build(const OptimizerOptions& options, std::vector<ParameterRange> ranges, std::size_t n) {
  if (!(options.learning_rate > 0.0F) || !std::isfinite(options.learning_rate)) {
    throw Error(fmt::format("learning rate must be a positive number, got {}", options.learning_rate));
  }
  switch (options.kind) {
    case OptimizerKind::sgd: return std::make_unique<Sgd>(options, std::move(ranges), n);
    case OptimizerKind::adam: return std::make_unique<Adam>(options, std::move(ranges), n);
    case OptimizerKind::rmsprop: return std::make_unique<RmsProp>(options, std::move(ranges), n);
  }
  throw Error("unknown optimizer");
}

}  // namespace

std::unique_ptr<Optimizer> make_optimizer(const OptimizerOptions& options, const ParameterLayout& layout) {
  // Adjacent segments with the same constraint merge into one range (fewer loop launches).
  std::vector<ParameterRange> ranges;
  for (const Segment& s : layout.segments()) {
    if (!ranges.empty() && ranges.back().non_negative == s.non_negative && ranges.back().end == s.offset) {
      ranges.back().end = s.offset + s.size();
    } else {
      ranges.push_back(ParameterRange{s.offset, s.offset + s.size(), s.non_negative});
    }
  }
  return build(options, std::move(ranges), layout.size());
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
