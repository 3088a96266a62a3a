#include "rnn/train/optimizer.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include <fmt/format.h>

#include "rnn/core/error.hpp"
#include "rnn/core/state_io.hpp"

namespace rnn {
namespace {

using Index = std::ptrdiff_t;

// Runs `update(i, g_i)` (which returns the new value of parameter i) over the part of every range
// inside [first, last), clamping the non-negative ranges at zero. kShared: the loops are
// work-shared (called by every thread of a parallel region they split the work, called outside
// one they run whole); otherwise the calling thread runs them alone. (Two copies of the loops:
// an `omp for` that only one thread of a team reaches never ends.)
template <bool kShared, typename Gather, typename Update>
void for_each_parameter(const std::vector<ParameterRange>& ranges, std::size_t first, std::size_t last, float* p,
                        const Gather& shared_gather, const Update& update) {
  // Local copies of the functors, so their captured constants and pointers live in registers:
  // read through a reference they are reloaded after every store to p, m or v, which the
  // compiler must assume may alias them.
  const auto gather = shared_gather;
  const auto step = update;
  for (const ParameterRange& r : ranges) {
    const auto begin = static_cast<Index>(std::max(r.begin, first));
    const auto end = static_cast<Index>(std::min(r.end, last));
    if (begin >= end) continue;
    if constexpr (kShared) {
      if (r.non_negative) {
#pragma omp for simd schedule(static) nowait
        for (Index i = begin; i < end; ++i) p[i] = std::max(0.0F, step(i, gather(i)));
      } else {
#pragma omp for simd schedule(static) nowait
        for (Index i = begin; i < end; ++i) p[i] = step(i, gather(i));
      }
    } else {
      if (r.non_negative) {
#pragma omp simd
        for (Index i = begin; i < end; ++i) p[i] = std::max(0.0F, step(i, gather(i)));
      } else {
#pragma omp simd
        for (Index i = begin; i < end; ++i) p[i] = step(i, gather(i));
      }
    }
  }
}

// The update over [first, last) with g_i gathered from the shares, work-shared. The gather is
// written so the compiler can vectorise it for the common counts (one share, or one per core).
template <typename Update>
void apply(const std::vector<ParameterRange>& ranges, std::size_t first, std::size_t last, float* p,
           std::span<const GradientShare> shares, const Update& update) {
  if (shares.size() == 1 && shares[0].weight == 1.0F) {
    // One whole gradient: the same expression as update_block's, so the compiler fuses the update
    // the same way and a step taken in blocks gives the same bits.
    const float* g0 = shares[0].grad;
    const auto gather = [=](Index i) { return g0[i]; };
    for_each_parameter<true>(ranges, first, last, p, gather, update);
  } else if (shares.size() == 1) {
    const float* g0 = shares[0].grad;
    const float w0 = shares[0].weight;
    const auto gather = [=](Index i) { return w0 * g0[i]; };
    for_each_parameter<true>(ranges, first, last, p, gather, update);
  } else if (shares.size() == 2) {
    const float* g0 = shares[0].grad;
    const float* g1 = shares[1].grad;
    const float w0 = shares[0].weight;
    const float w1 = shares[1].weight;
    const auto gather = [=](Index i) { return w0 * g0[i] + w1 * g1[i]; };
    for_each_parameter<true>(ranges, first, last, p, gather, update);
  } else {
    const auto gather = [=](Index i) {
      float sum = 0.0F;
      for (const GradientShare& s : shares) sum += s.weight * s.grad[i];
      return sum;
    };
    for_each_parameter<true>(ranges, first, last, p, gather, update);
  }
}

// The update over [first, first + block.size()) with g_i = block[i − first], on the calling thread.
template <typename Update>
void apply_block(const std::vector<ParameterRange>& ranges, std::size_t first, std::span<const float> block, float* p,
                 const Update& update) {
  const float* g = block.data();
  const auto offset = static_cast<Index>(first);
  const auto gather = [=](Index i) { return g[i - offset]; };
  for_each_parameter<false>(ranges, first, first + block.size(), p, gather, update);
}

// update() and update_block() of an optimizer given by its rule for one parameter:
// Derived::with_rule(params, run) calls run(rule), where rule(i, g_i) advances the optimizer's
// state for parameter i and returns its new value.
template <typename Derived>
class RuleOptimizer : public Optimizer {
 public:
  void update(std::span<float> params, std::span<const GradientShare> shares, std::size_t first,
              std::size_t last) final {
    derived().with_rule(params, 1.0F,
                        [&](const auto& rule) { apply(ranges_, first, last, params.data(), shares, rule); });
  }
  void update_block(std::span<float> params, std::size_t first, std::span<const float> block) final {
    derived().with_rule(params, 1.0F,
                        [&](const auto& rule) { apply_block(ranges_, first, block, params.data(), rule); });
  }
  void step_entries(std::span<const float> params, std::size_t offset, std::span<const std::uint32_t> indices,
                    std::span<const float> gradient, float lr_scale, std::span<float> steps) override {
    derived().with_rule(params, lr_scale, [&](const auto& rule) {
      const float* p = params.data();
      const auto base = static_cast<Index>(offset);
      for (std::size_t j = 0; j < gradient.size(); ++j) {
        const Index i = base + static_cast<Index>(indices.empty() ? j : indices[j]);
        steps[j] = rule(i, gradient[j]) - p[i];
      }
    });
  }

 protected:
  using Optimizer::Optimizer;

 private:
  Derived& derived() { return static_cast<Derived&>(*this); }
};

class Sgd final : public RuleOptimizer<Sgd> {
 public:
  Sgd(const OptimizerOptions& options, std::vector<ParameterRange> ranges, std::size_t n)
      : RuleOptimizer(options, std::move(ranges), n), velocity_(options.momentum > 0 ? n : 0) {}

  void begin_step() override { lr_ = options_.learning_rate; }

  template <typename Run>
  void with_rule(std::span<const float> params, float lr_scale, const Run& run) {
    const float lr = lr_ * lr_scale;
    const float* p = params.data();
    if (velocity_.empty()) {
      run([=](Index i, float g) { return p[i] - lr * g; });
      return;
    }
    const float mu = options_.momentum;
    float* v = velocity_.data();
    run([=](Index i, float g) {
      v[i] = mu * v[i] + g;
      return p[i] - lr * v[i];
    });
  }

 public:
  void save_state(std::vector<std::uint8_t>& out) const override {
    wire::put_u8(out, 0);
    wire::put_f32(out, options_.learning_rate);
    wire::put_floats(out, velocity_);
  }
  void load_state(wire::Reader& in) override {
    if (in.u8("optimizer kind") != 0) throw Error("optimizer state is not an sgd optimizer's");
    const float lr = in.f32("learning rate");
    if (!(lr > 0.0F) || !std::isfinite(lr)) throw Error(fmt::format("optimizer state has learning rate {}", lr));
    std::vector<float> velocity = wire::get_floats(in, velocity_.size(), "sgd velocity");
    options_.learning_rate = lr;
    velocity_ = std::move(velocity);
  }

 private:
  std::vector<float> velocity_;
  float lr_ = 0.0F;
};

class Adam final : public RuleOptimizer<Adam> {
 public:
  Adam(const OptimizerOptions& options, std::vector<ParameterRange> ranges, std::size_t n)
      : RuleOptimizer(options, std::move(ranges), n), m_(n, 0.0F), v_(n, 0.0F) {
    if (options.per_entry_bias_correction) {
      counts_.assign(n, 0);
      correction1_.resize(kCorrectionTable);
      correction2_.resize(kCorrectionTable);
      for (std::size_t k = 0; k < kCorrectionTable; ++k) {
        correction1_[k] =
            static_cast<float>(1.0 - std::pow(static_cast<double>(options.beta1), static_cast<double>(k)));
        correction2_[k] =
            static_cast<float>(1.0 - std::pow(static_cast<double>(options.beta2), static_cast<double>(k)));
      }
    }
  }

  void step_entries(std::span<const float> params, std::size_t offset, std::span<const std::uint32_t> indices,
                    std::span<const float> gradient, float lr_scale, std::span<float> steps) override {
    if (counts_.empty()) {
      RuleOptimizer::step_entries(params, offset, indices, gradient, lr_scale, steps);
      return;
    }
    const float b1 = options_.beta1;
    const float b2 = options_.beta2;
    const float lr = options_.learning_rate * lr_scale;
    const float eps = options_.epsilon;
    for (std::size_t j = 0; j < gradient.size(); ++j) {
      const std::size_t i = offset + (indices.empty() ? j : indices[j]);
      const std::uint32_t n = counts_[i] < kCorrectionTable - 1 ? ++counts_[i] : counts_[i];
      const float g = gradient[j];
      m_[i] = b1 * m_[i] + (1.0F - b1) * g;
      v_[i] = b2 * v_[i] + (1.0F - b2) * g * g;
      steps[j] = -lr * (m_[i] / correction1_[n]) / (std::sqrt(v_[i] / correction2_[n]) + eps);
    }
  }

  void begin_step() override {
    ++t_;
    // Bias corrections folded into the step size and ε (the paper's efficient form).
    const double c1 = 1.0 - std::pow(static_cast<double>(options_.beta1), static_cast<double>(t_));
    const double c2 = 1.0 - std::pow(static_cast<double>(options_.beta2), static_cast<double>(t_));
    step_size_ = static_cast<float>(options_.learning_rate * std::sqrt(c2) / c1);
    eps_hat_ = static_cast<float>(options_.epsilon * std::sqrt(c2));
  }

  template <typename Run>
  void with_rule(std::span<const float> params, float lr_scale, const Run& run) {
    const float b1 = options_.beta1;
    const float b2 = options_.beta2;
    const float step = step_size_ * lr_scale;
    const float eps_hat = eps_hat_;
    const float* p = params.data();
    float* m = m_.data();
    float* v = v_.data();
    run([=](Index i, float g) {
      m[i] = b1 * m[i] + (1.0F - b1) * g;
      v[i] = b2 * v[i] + (1.0F - b2) * g * g;
      return p[i] - step * m[i] / (std::sqrt(v[i]) + eps_hat);
    });
  }

 public:
  void save_state(std::vector<std::uint8_t>& out) const override {
    wire::put_u8(out, 1);
    wire::put_f32(out, options_.learning_rate);
    wire::put_i64(out, t_);
    wire::put_floats(out, m_);
    wire::put_floats(out, v_);
    for (const std::uint32_t n : counts_) wire::put_u32(out, n);
  }
  void load_state(wire::Reader& in) override {
    if (in.u8("optimizer kind") != 1) throw Error("optimizer state is not an adam optimizer's");
    const float lr = in.f32("learning rate");
    if (!(lr > 0.0F) || !std::isfinite(lr)) throw Error(fmt::format("optimizer state has learning rate {}", lr));
    const std::int64_t t = in.i64("adam step count");
    if (t < 0) throw Error("adam step count is negative");
    std::vector<float> m = wire::get_floats(in, m_.size(), "adam first moments");
    std::vector<float> v = wire::get_floats(in, v_.size(), "adam second moments");
    std::vector<std::uint32_t> counts(counts_.size());
    for (std::uint32_t& n : counts) {
      n = in.u32("adam entry update count");
      if (n >= kCorrectionTable) throw Error(fmt::format("adam entry update count {} is out of range", n));
    }
    counts_ = std::move(counts);
    options_.learning_rate = lr;
    t_ = t;
    m_ = std::move(m);
    v_ = std::move(v);
  }

 private:
  static constexpr std::uint32_t kCorrectionTable = 1U << 16U;  // 1 − βⁿ for n below this; n saturates there

  std::vector<float> m_;
  std::vector<float> v_;
  std::vector<std::uint32_t> counts_;  // per_entry_bias_correction: updates of each entry
  std::vector<float> correction1_;     // 1 − β₁ⁿ
  std::vector<float> correction2_;     // 1 − β₂ⁿ
  long t_ = 0;
  float step_size_ = 0.0F;
  float eps_hat_ = 0.0F;
};

class RmsProp final : public RuleOptimizer<RmsProp> {
 public:
  RmsProp(const OptimizerOptions& options, std::vector<ParameterRange> ranges, std::size_t n)
      : RuleOptimizer(options, std::move(ranges), n), v_(n, 0.0F) {}

  void begin_step() override { lr_ = options_.learning_rate; }

  template <typename Run>
  void with_rule(std::span<const float> params, float lr_scale, const Run& run) {
    const float lr = lr_ * lr_scale;
    const float rho = options_.rho;
    const float eps = options_.epsilon;
    const float* p = params.data();
    float* v = v_.data();
    run([=](Index i, float g) {
      v[i] = rho * v[i] + (1.0F - rho) * g * g;
      return p[i] - lr * g / (std::sqrt(v[i]) + eps);
    });
  }

 public:
  void save_state(std::vector<std::uint8_t>& out) const override {
    wire::put_u8(out, 2);
    wire::put_f32(out, options_.learning_rate);
    wire::put_floats(out, v_);
  }
  void load_state(wire::Reader& in) override {
    if (in.u8("optimizer kind") != 2) throw Error("optimizer state is not an rmsprop optimizer's");
    const float lr = in.f32("learning rate");
    if (!(lr > 0.0F) || !std::isfinite(lr)) throw Error(fmt::format("optimizer state has learning rate {}", lr));
    std::vector<float> v = wire::get_floats(in, v_.size(), "rmsprop second moments");
    options_.learning_rate = lr;
    v_ = std::move(v);
  }

 private:
  std::vector<float> v_;
  float lr_ = 0.0F;
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

void Optimizer::step(std::span<float> params, std::span<const float> grad) {
  if (grad.size() != size_) {
    throw Error(fmt::format("optimizer: gradient has {} entries, built for {}", grad.size(), size_));
  }
  const GradientShare whole{grad.data(), 1.0F};
  step(params, std::span(&whole, 1));
}

void Optimizer::step(std::span<float> params, std::span<const GradientShare> shares) {
  check_size(params, shares);
  begin_step();
#pragma omp parallel
  update(params, shares, 0, size_);
}

void Optimizer::check_size(std::span<float> params, std::span<const GradientShare> shares) const {
  if (params.size() != size_) {
    throw Error(fmt::format("optimizer: {} parameters given, built for {}", params.size(), size_));
  }
  for (const GradientShare& s : shares) {
    if (s.grad == nullptr) throw Error("optimizer: a gradient share has no data");
  }
}

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
