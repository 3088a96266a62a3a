// Each compressor against the property that defines it in its paper.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "rnn/compress/adacomp_ibm.hpp"
#include "rnn/compress/codec.hpp"
#include "rnn/compress/compressor.hpp"
#include "rnn/compress/dgc.hpp"
#include "rnn/compress/error_feedback.hpp"
#include "rnn/compress/push.hpp"
#include "rnn/compress/registry.hpp"
#include "rnn/compress/selection.hpp"
#include "rnn/compress/terngrad.hpp"
#include "rnn/core/error.hpp"
#include "test_support.hpp"

namespace rnn {
namespace {

CompressorOptions named(const std::string& name, double ratio = 0.05) {
  CompressorOptions o;
  o.name = name;
  o.ratio = ratio;
  return o;
}

void accumulate(const ParameterLayout& layout, const Message& m, std::vector<double>& sum) {
  for_each_entry(m, layout, [&](std::size_t i, float v) { sum[i] += v; });
}

// Pushes `pushes` random gradients; returns Σ gradients − Σ delivered, which a method with a
// memory must be holding back, entry for entry.
std::vector<double> undelivered(Compressor& c, const CodecOptions& codec, int pushes) {
  const auto& layout = c.layout();
  std::vector<double> balance(layout.size(), 0.0);
  std::vector<double> delivered(layout.size(), 0.0);
  Message m;
  for (int t = 0; t < pushes; ++t) {
    const auto g = test::random_gradient(layout.size(), 100 + static_cast<std::uint64_t>(t));
    for (std::size_t i = 0; i < g.size(); ++i) balance[i] += g[i];
    c.compress(g, m);
    round_to_encoding(m, codec);
    c.commit(m);
    accumulate(layout, m, delivered);
  }
  for (std::size_t i = 0; i < balance.size(); ++i) balance[i] -= delivered[i];
  return balance;
}

void require_close(const std::vector<double>& expected, std::span<const float> actual) {
  REQUIRE(expected.size() == actual.size());
  for (std::size_t i = 0; i < expected.size(); ++i)
    REQUIRE(actual[i] == doctest::Approx(expected[i]).epsilon(1e-4).scale(1e-3));
}

}  // namespace

TEST_CASE("none sends every entry unchanged") {
  const auto layout = test::small_layout();
  auto c = make_compressor(named("none"), layout);
  const auto g = test::random_gradient(layout.size(), 1);
  Message m;
  c->compress(g, m);
  std::vector<double> sum(layout.size(), 0.0);
  accumulate(layout, m, sum);
  for (std::size_t i = 0; i < g.size(); ++i) REQUIRE(sum[i] == g[i]);
  for (const auto& b : m.blocks) CHECK(b.dense);
}

TEST_CASE("topk and adacomp send the k = max(1, floor(c·n)) largest entries of each tensor") {
  const auto layout = test::small_layout();
  for (const char* name : {"topk", "adacomp"}) {
    auto c = make_compressor(named(name, 0.05), layout);
    const auto g = test::random_gradient(layout.size(), 2);
    Message m;
    c->compress(g, m);
    REQUIRE(m.blocks.size() == layout.segments().size());
    for (const auto& b : m.blocks) {
      const Segment& s = layout.segment(b.segment);
      CHECK(b.count() ==
            std::max<std::size_t>(1, static_cast<std::size_t>(std::floor(0.05 * static_cast<double>(s.size())))));
      const std::span<const float> slice(g.data() + s.offset, s.size());
      std::vector<std::uint32_t> oracle;
      std::vector<std::pair<float, std::uint32_t>> order;
      select_top_k_by_sort(slice, b.count(), order, oracle);
      CHECK(b.indices == oracle);
      for (std::size_t j = 0; j < b.count(); ++j) CHECK(b.values[j] == slice[b.indices[j]]);
    }
  }
  CHECK(entries_to_send(0.01, 32) == 1);
  CHECK(entries_to_send(0.01, 401408) == 4014);
  CHECK(entries_to_send(1.0, 7) == 7);
}

TEST_CASE("normalised top-k sends what is large for its own entry: a spike beats a steadily large gradient") {
  ParameterLayout layout;
  layout.add("a.weight", 1, 4, false);
  layout.add("b.weight", 1, 100, false);  // k = 1 of each at c = 0.01
  CompressorOptions o = named("adacomp", 0.01);
  auto magnitude = make_compressor(o, layout);
  o.score = "normalised";
  auto normalised = make_compressor(o, layout);
  auto copy = make_compressor(o, layout);
  // Entry 0 of each tensor is always 10; entry 1 is 1 and then spikes to 5; the rest stay small.
  std::vector<float> g(layout.size(), 0.01F);
  g[0] = 10.0F;
  g[4] = 10.0F;
  g[1] = 1.0F;
  g[5] = 1.0F;
  Message m;
  for (int push = 0; push < 5; ++push) {
    normalised->compress(g, m);
    if (push == 2) {  // a checkpoint half-way: the copy continues from the saved state
      std::vector<std::uint8_t> state;
      normalised->save_state(state);
      wire::Reader in(state);
      copy->load_state(in);
    }
  }
  g[1] = 5.0F;
  g[5] = 5.0F;
  magnitude->compress(g, m);
  CHECK(m.blocks[0].indices == std::vector<std::uint32_t>{0});
  CHECK(m.blocks[1].indices == std::vector<std::uint32_t>{0});
  normalised->compress(g, m);
  REQUIRE(m.blocks.size() == 2);
  CHECK(m.blocks[0].indices == std::vector<std::uint32_t>{1});
  CHECK(m.blocks[1].indices == std::vector<std::uint32_t>{1});
  CHECK(m.blocks[1].values == std::vector<float>{5.0F});  // the raw gradient, not its score
  Message from_copy;
  std::vector<float> steady(layout.size(), 0.01F);
  steady[0] = steady[4] = 10.0F;
  steady[1] = steady[5] = 1.0F;
  copy->compress(steady, from_copy);
  copy->compress(steady, from_copy);
  copy->compress(g, from_copy);
  CHECK(from_copy.blocks[1].indices == m.blocks[1].indices);
  CHECK(from_copy.blocks[1].values == m.blocks[1].values);
  o.score = "largest";
  CHECK_THROWS_AS((void)make_compressor(o, layout), Error);
}

TEST_CASE("randomk picks k distinct entries, uniformly, reproducibly") {
  const auto layout = test::small_layout();
  const Segment& dense = *layout.find("dense1.weight");
  auto a = make_compressor(named("randomk", 0.05), layout);
  auto b = make_compressor(named("randomk", 0.05), layout);
  const auto g = test::random_gradient(layout.size(), 3);
  std::vector<int> hits(dense.size(), 0);
  Message ma;
  Message mb;
  const int pushes = 2000;
  for (int t = 0; t < pushes; ++t) {
    a->compress(g, ma);
    b->compress(g, mb);
    const auto& block = ma.blocks[2];
    REQUIRE(block.indices == mb.blocks[2].indices);  // same seed, same choice
    REQUIRE(block.count() == 60);
    for (std::size_t j = 0; j < block.count(); ++j) {
      if (j > 0) REQUIRE(block.indices[j] > block.indices[j - 1]);
      REQUIRE(block.values[j] == g[dense.offset + block.indices[j]]);
      ++hits[block.indices[j]];
    }
  }
  // Each entry is expected 2000 · 60 / 1200 = 100 times (σ ≈ 9.7); all within 6σ.
  for (const int h : hits) CHECK(std::abs(h - 100) < 60);
  CompressorOptions other = named("randomk", 0.05);
  other.stream = 1;
  auto c = make_compressor(other, layout);
  Message mc;
  c->compress(g, mc);
  a = make_compressor(named("randomk", 0.05), layout);
  a->compress(g, ma);
  CHECK(mc.blocks[2].indices != ma.blocks[2].indices);  // another worker's stream differs
}

TEST_CASE("threshold sends exactly the entries with |g| >= h") {
  const auto layout = test::small_layout();
  CompressorOptions o = named("threshold");
  o.threshold = 0.015;
  auto c = make_compressor(o, layout);
  const auto g = test::random_gradient(layout.size(), 4);
  Message m;
  c->compress(g, m);
  std::vector<bool> sent(layout.size(), false);
  for (const auto& b : m.blocks)
    for (auto i : b.indices) sent[layout.segment(b.segment).offset + i] = true;
  for (std::size_t i = 0; i < g.size(); ++i) CHECK(sent[i] == (std::fabs(g[i]) >= 0.015F));
}

TEST_CASE("error feedback holds back exactly what was not delivered, even through a lossy codec") {
  const auto layout = test::small_layout();
  for (const auto value_encoding : {ValueEncoding::f32, ValueEncoding::f16, ValueEncoding::sign_scale}) {
    for (const char* name : {"topk-ef", "randomk", "threshold", "signsgd-ef"}) {
      CAPTURE(name);
      CompressorOptions o = named(name);
      o.threshold = 0.02;
      o.error_feedback = std::string(name) == "randomk" || std::string(name) == "threshold";
      auto c = make_compressor(o, layout);
      const auto expected = undelivered(*c, {IndexEncoding::u32, value_encoding, 127}, 20);
      require_close(expected, dynamic_cast<const ErrorFeedback&>(*c).memory().residual());
    }
  }
}

TEST_CASE("signsgd-ef sends (||p||_1 / n) · sign(p) for every entry") {
  const auto layout = test::small_layout();
  auto c = make_compressor(named("signsgd-ef"), layout);
  const auto g = test::random_gradient(layout.size(), 6);
  Message m;
  c->compress(g, m);  // first push: p = g
  for (const auto& b : m.blocks) {
    const Segment& s = layout.segment(b.segment);
    double l1 = 0.0;
    for (std::size_t i = 0; i < s.size(); ++i) l1 += std::fabs(g[s.offset + i]);
    const auto scale = static_cast<float>(l1 / static_cast<double>(s.size()));
    REQUIRE(b.dense);
    for (std::size_t i = 0; i < s.size(); ++i) CHECK(b.values[i] == (g[s.offset + i] < 0 ? -scale : scale));
  }
}

TEST_CASE("dgc: without momentum it is top-k with a residual") {
  const auto layout = test::small_layout();
  CompressorOptions o = named("dgc");
  o.momentum = 0.0;
  auto plain = make_compressor(o, layout);
  const auto expected = undelivered(*plain, {}, 15);
  require_close(expected, dynamic_cast<const DgcCompressor&>(*plain).accumulation());
}

TEST_CASE("dgc: momentum correction accumulates velocity, and sent entries lose theirs") {
  const auto layout = test::small_layout();
  CompressorOptions o = named("dgc");
  o.momentum = 0.9;
  auto c = make_compressor(o, layout);
  const auto& dgc = dynamic_cast<const DgcCompressor&>(*c);
  const auto g1 = test::random_gradient(layout.size(), 7);
  const auto g2 = test::random_gradient(layout.size(), 8);
  Message m;
  c->compress(g1, m);  // u = g1, v = g1
  c->commit(m);        // sent entries: v = 0, u = 0
  std::vector<bool> sent(layout.size(), false);
  for (const auto& b : m.blocks)
    for (auto i : b.indices) sent[layout.segment(b.segment).offset + i] = true;
  c->compress(g2, m);
  for (std::size_t i = 0; i < layout.size(); ++i) {
    const float u1 = sent[i] ? 0.0F : g1[i];
    const float v1 = sent[i] ? 0.0F : g1[i];
    const float u2 = 0.9F * u1 + g2[i];
    REQUIRE(dgc.velocity()[i] == doctest::Approx(u2));
    REQUIRE(dgc.accumulation()[i] == doctest::Approx(v1 + u2));
  }
}

TEST_CASE("dgc: the ratio warms up from 25 % in four stages, and pushes follow it") {
  const auto layout = test::small_layout();
  CompressorOptions o = named("dgc");
  o.warmup_pushes = 8;
  o.ratio = 0.001;
  auto c = make_compressor(o, layout);
  const auto& dgc = dynamic_cast<const DgcCompressor&>(*c);
  const std::vector<double> expected{0.25,     0.25,       0.0625,     0.0625, 0.015625,
                                     0.015625, 0.00390625, 0.00390625, 0.001,  0.001};
  Message m;
  for (std::size_t t = 0; t < expected.size(); ++t) {
    CHECK(dgc.current_ratio() == expected[t]);
    c->compress(test::random_gradient(layout.size(), 50 + t), m);
    c->commit(m);
    for (const auto& b : m.blocks) CHECK(b.count() == entries_to_send(expected[t], layout.segment(b.segment).size()));
  }
}

TEST_CASE("adacomp-ibm: residue conserves the gradient, values are ±scale, the largest of a bin goes out") {
  const auto layout = test::small_layout();
  auto c = make_compressor(named("adacomp-ibm"), layout);
  const auto expected = undelivered(*c, {}, 12);
  require_close(expected, dynamic_cast<const AdaCompIbmCompressor&>(*c).residue());

  auto fresh = make_compressor(named("adacomp-ibm"), layout);
  auto g = test::random_gradient(layout.size(), 9);
  const Segment& dense = *layout.find("dense1.weight");
  g[dense.offset + 123] = 1.0F;  // dominates its bin: |H| = 2 ≥ gmax = 1
  Message m;
  fresh->compress(g, m);
  const auto& block = m.blocks[2];
  CHECK(std::find(block.indices.begin(), block.indices.end(), 123U) != block.indices.end());
  for (const auto& b : m.blocks)
    for (std::size_t j = 0; j < b.count(); ++j) CHECK(std::fabs(b.values[j]) == b.scale_of(j));
}

TEST_CASE("qsgd and terngrad are unbiased and stay on their grids") {
  const auto layout = test::small_layout();
  auto g = test::random_gradient(layout.size(), 10);
  g[layout.find("dense1.weight")->offset + 7] = 0.2F;  // an outlier (20σ) for TernGrad's clipping to cut
  struct Case {
    std::string label;
    CompressorOptions options;
  };
  CompressorOptions qsgd = named("qsgd");
  qsgd.bucket = 16;  // several buckets per tensor, and a short last one (72 = 4·16 + 8)
  CompressorOptions qsgd_whole = named("qsgd");
  qsgd_whole.bucket = 0;
  CompressorOptions terngrad = named("terngrad");  // clipped at 2.5σ: unbiased for the clipped gradient
  CompressorOptions terngrad_unclipped = named("terngrad");
  terngrad_unclipped.clip_stddev = 0.0;
  for (const Case& c : {Case{"qsgd, buckets of 16", qsgd}, Case{"qsgd, one bucket per tensor", qsgd_whole},
                        Case{"terngrad, clipped", terngrad}, Case{"terngrad, unclipped", terngrad_unclipped}}) {
    CAPTURE(c.label);
    auto compressor = make_compressor(c.options, layout);
    // What the quantiser is unbiased for: g, or g clipped at ±c·σ per tensor.
    std::vector<float> target = g;
    if (c.options.name == "terngrad" && c.options.clip_stddev > 0.0) {
      for (const auto& s : layout.segments()) {
        const std::span<const float> slice(g.data() + s.offset, s.size());
        const auto bound = static_cast<float>(terngrad_clip_bound(slice, c.options.clip_stddev));
        if (bound == 0.0F) continue;  // equal entries (the one-entry bias): not clipped
        for (std::size_t i = 0; i < s.size(); ++i) target[s.offset + i] = std::clamp(slice[i], -bound, bound);
      }
      CHECK(target[layout.find("dense1.weight")->offset + 7] < 0.1F);  // the outlier was clipped
    }
    std::vector<double> sum(layout.size(), 0.0);
    Message m;
    const int draws = 2000;
    bool on_grid = true;
    for (int t = 0; t < draws; ++t) {
      compressor->compress(g, m);
      accumulate(layout, m, sum);
      for (const auto& b : m.blocks) {
        on_grid = on_grid && b.dense && b.scales.size() == bucket_count(b.count(), b.bucket);
        for (std::size_t j = 0; j < b.count(); ++j) {
          if (b.scale_of(j) == 0.0F) {
            on_grid = on_grid && b.values[j] == 0.0F;
            continue;
          }
          const double level = static_cast<double>(b.values[j]) / b.scale_of(j) * b.levels;
          on_grid = on_grid && std::fabs(level - std::round(level)) < 1e-3 && std::fabs(level) <= b.levels + 1e-3;
        }
      }
    }
    CHECK(on_grid);
    // Each entry is drawn between the two grid levels around it, with the probability that makes
    // its mean exact: Bernoulli with variance step² p (1 − p). A rounding that is not stochastic
    // (nearest level) has no variance but errs by up to half a step, and fails here.
    double pooled_error = 0.0;
    double pooled_variance = 0.0;
    int outliers = 0;
    for (const auto& b : m.blocks) {
      const Segment& s = layout.segment(b.segment);
      for (std::size_t i = 0; i < s.size(); ++i) {
        const double step = static_cast<double>(b.scale_of(i)) / b.levels;
        const double x = std::fabs(target[s.offset + i]) / step;
        const double p = x - std::floor(x);
        const double variance = step * step * p * (1.0 - p) / draws;  // of the mean
        const double error = sum[s.offset + i] / draws - target[s.offset + i];
        pooled_error += std::signbit(target[s.offset + i]) ? -error : error;
        pooled_variance += variance;
        if (std::fabs(error) > 6.0 * std::sqrt(variance) + 3.0 * step / draws) ++outliers;
      }
    }
    CHECK(outliers == 0);
    CHECK(std::fabs(pooled_error) <= 5.0 * std::sqrt(pooled_variance));
  }
}

// Alistarh et al.'s QSGD normalises each bucket of d entries by its own l2 norm. On a 128×3136
// Gaussian tensor with s = 4, one norm for the whole tensor leaves 0.5 % of the levels non-zero
// and a relative variance ‖Q(g) − g‖²/‖g‖² of 127.7; buckets of 128 bring it to 1.26.
TEST_CASE("qsgd quantises per bucket, one l2 norm each, and the wire carries every norm") {
  ParameterLayout layout;
  layout.add("dense.weight", 128, 3136, false);
  const auto g = test::random_gradient(layout.size(), 31, 1.0F);
  double g_squared = 0.0;
  for (const float v : g) g_squared += static_cast<double>(v) * v;
  struct Case {
    std::uint32_t bucket;
    double relative_variance;
    std::size_t encoded_bytes;  // levels encoding: 4 bits per entry, 4 bytes per norm
  };
  // header 5 + segment and flags 2 + varint s 1 + varint bucket (1 or 2) + norms + 401 408 · 4 bits
  for (const Case& c :
       {Case{128, 1.26, 5 + 2 + 1 + 2 + 4 * 3136 + 200704}, Case{0, 127.7, 5 + 2 + 1 + 1 + 4 + 200704}}) {
    CAPTURE(c.bucket);
    CompressorOptions o = named("qsgd");
    o.levels = 4;
    o.bucket = c.bucket;
    auto q = make_compressor(o, layout);
    Message m;
    q->compress(g, m);
    const TensorBlock& b = m.blocks.at(0);
    const std::size_t length = c.bucket == 0 ? g.size() : c.bucket;
    REQUIRE(b.scales.size() == g.size() / length);
    for (std::size_t k = 0; k < b.scales.size(); ++k) {  // each bucket's own norm
      const std::span<const float> bucket(g.data() + k * length, length);
      CHECK(b.scales[k] == static_cast<float>(l2_norm(bucket)));
    }
    double error = 0.0;
    double expected = 0.0;  // E‖Q(g) − g‖² = Σ step² p (1 − p), the Bernoulli variance of each entry
    for (std::size_t i = 0; i < g.size(); ++i) {
      error += (static_cast<double>(b.values[i]) - g[i]) * (static_cast<double>(b.values[i]) - g[i]);
      const double step = static_cast<double>(b.scale_of(i)) / o.levels;
      const double p = std::fabs(g[i]) / step - std::floor(std::fabs(g[i]) / step);
      expected += step * step * p * (1.0 - p);
    }
    CHECK(error / g_squared == doctest::Approx(expected / g_squared).epsilon(0.02));
    CHECK(error / g_squared == doctest::Approx(c.relative_variance).epsilon(0.02));
    std::vector<std::uint8_t> bytes;
    encode(m, layout, {IndexEncoding::u32, ValueEncoding::levels, 127}, bytes);
    CHECK(bytes.size() == c.encoded_bytes);
    Message decoded;
    decode(bytes, layout, decoded);
    CHECK(decoded.blocks[0].values == b.values);  // the levels encoding carries QSGD exactly
  }
}

// TernGrad on one tensor g = (1, 1, 1, 1, 1, 1, 1, 9): mean 2, σ = √7 (population), so clipping
// at 2.5σ cuts the 9 to s = 2.5·√7 ≈ 6.614; each 1 is sent as ±s with probability 1/s.
TEST_CASE("terngrad clips at 2.5 sigma before scaling, as Wen et al. do") {
  ParameterLayout layout;
  layout.add("dense.weight", 1, 8, false);
  const std::vector<float> g{1, 1, 1, 1, 1, 1, 1, 9};
  CHECK(terngrad_clip_bound(g, 2.5) == doctest::Approx(2.5 * std::sqrt(7.0)).epsilon(1e-12));
  struct Case {
    double clip;
    float scale;
  };
  for (const Case& c : {Case{2.5, static_cast<float>(2.5 * std::sqrt(7.0))}, Case{0.0, 9.0F}}) {
    CAPTURE(c.clip);
    CompressorOptions o = named("terngrad");
    o.clip_stddev = c.clip;
    auto t = make_compressor(o, layout);
    Message m;
    std::vector<int> sent(g.size(), 0);
    const int draws = 20000;
    for (int d = 0; d < draws; ++d) {
      t->compress(g, m);
      const TensorBlock& b = m.blocks.at(0);
      REQUIRE(b.scales == std::vector<float>{c.scale});
      for (std::size_t i = 0; i < g.size(); ++i) {
        REQUIRE((b.values[i] == 0.0F || b.values[i] == c.scale));
        sent[i] += b.values[i] != 0.0F ? 1 : 0;
      }
    }
    CHECK(sent[7] == draws);  // min(9, s) / s = 1: always sent
    const double p = 1.0 / c.scale;
    const double sigma = std::sqrt(draws * p * (1.0 - p));
    for (std::size_t i = 0; i < 7; ++i) CHECK(std::fabs(sent[i] - draws * p) < 5.0 * sigma);
  }
  CHECK(named("terngrad").clip_stddev == 2.5);  // clipping is on unless asked off
}

// Chen et al. 2018, Algorithm 1 by hand, bins of 4 on g = (1/8, −1/2, 1/4, 0 | 0, 0, 1/16, 0):
//   push 1: G = g, H = 2g. Bin 1: gmax = 1/2, |H| ≥ 1/2 at entries 1 and 2. Bin 2: gmax = 1/16,
//           |H| = 1/8 ≥ 1/16 at entry 6. scale = mean of the bins' gmax = (1/2 + 1/16)/2 = 9/32,
//           so entries 1, 2, 6 go out as −9/32, +9/32, +9/32 and G = (1/8, −7/32, −1/32, 0 | 0, 0, −7/32, 0).
//   push 2 (g = 0): H = G. gmax = 7/32 in both bins, reached by entries 1 and 6 only; scale 7/32,
//           both sent as −7/32, leaving G = (1/8, 0, −1/32, 0 | 0, 0, 0, 0).
TEST_CASE("adacomp-ibm's scale is the mean of the bins' maxima (hand-computed)") {
  ParameterLayout layout;
  layout.add("dense.weight", 1, 8, false);
  CompressorOptions o = named("adacomp-ibm");
  o.dense_bin = 4;
  auto c = make_compressor(o, layout);
  const auto& ibm = dynamic_cast<const AdaCompIbmCompressor&>(*c);
  Message m;
  c->compress(std::vector<float>{0.125F, -0.5F, 0.25F, 0, 0, 0, 0.0625F, 0}, m);
  CHECK(m.blocks[0].indices == std::vector<std::uint32_t>{1, 2, 6});
  CHECK(m.blocks[0].values == std::vector<float>{-0.28125F, 0.28125F, 0.28125F});
  CHECK(m.blocks[0].scales == std::vector<float>{0.28125F});
  c->commit(m);
  CHECK(std::vector<float>(ibm.residue().begin(), ibm.residue().end()) ==
        std::vector<float>{0.125F, -0.21875F, -0.03125F, 0, 0, 0, -0.21875F, 0});
  c->compress(std::vector<float>(8, 0.0F), m);
  CHECK(m.blocks[0].indices == std::vector<std::uint32_t>{1, 6});
  CHECK(m.blocks[0].values == std::vector<float>{-0.21875F, -0.21875F});
  c->commit(m);
  CHECK(std::vector<float>(ibm.residue().begin(), ibm.residue().end()) ==
        std::vector<float>{0.125F, 0, -0.03125F, 0, 0, 0, 0, 0});
}

namespace {

// The memory of a residual-keeping compressor: Σ pushed gradients − Σ delivered, entry for entry.
std::span<const float> memory_of(const Compressor& c) {
  if (const auto* ef = dynamic_cast<const ErrorFeedback*>(&c)) return ef->memory().residual();
  if (const auto* dgc = dynamic_cast<const DgcCompressor*>(&c)) return dgc->accumulation();
  if (const auto* ibm = dynamic_cast<const AdaCompIbmCompressor*>(&c)) return ibm->residue();
  FAIL("no memory to read for ", c.name());
  return {};
}

}  // namespace

TEST_CASE("a push that fails to encode keeps its gradient whole in every residual memory") {
  const auto layout = test::small_layout();
  CompressorOptions dgc = named("dgc");
  dgc.momentum = 0.0;  // so that the memory is exactly the undelivered sum
  CompressorOptions randomk_ef = named("randomk");
  randomk_ef.error_feedback = true;
  CompressorOptions qsgd_ef = named("qsgd");
  qsgd_ef.error_feedback = true;
  const CodecOptions good{IndexEncoding::delta_varint, ValueEncoding::f16, 127};
  for (const auto& o : {named("topk-ef"), named("signsgd-ef"), named("adacomp-ibm"), dgc, randomk_ef, qsgd_ef}) {
    CAPTURE(o.name);
    CAPTURE(o.error_feedback);
    auto c = make_compressor(o, layout);
    REQUIRE(c->keeps_residual());
    const auto g1 = test::random_gradient(layout.size(), 71);
    const auto g2 = test::random_gradient(layout.size(), 72);
    std::vector<std::uint8_t> bytes;
    Message m;
    c->compress(g1, m);
    // The push is not encodable: a quantiser's level grid cannot go out as sign bits, and codec
    // options can be invalid. Either way it is never committed.
    if (o.name == "qsgd")
      CHECK_THROWS_AS(encode(m, layout, {IndexEncoding::u32, ValueEncoding::sign_scale, 127}, bytes), Error);
    CodecOptions invalid = good;
    invalid.levels = 0;
    CHECK_THROWS_AS(encode(m, layout, invalid, bytes), Error);
    c->compress(g2, m);  // the next push must carry g1 too
    round_to_encoding(m, good);
    encode(m, layout, good, bytes);
    c->commit(m);
    std::vector<double> expected(layout.size());
    for (std::size_t i = 0; i < expected.size(); ++i) expected[i] = static_cast<double>(g1[i]) + g2[i];
    for_each_entry(m, layout, [&](std::size_t i, float sent) { expected[i] -= sent; });
    require_close(expected, memory_of(*c));
  }
}

TEST_CASE("a gradient the compressor rejects does not reach its memory") {
  const auto layout = test::small_layout();
  auto c = make_compressor(named("topk-ef"), layout);
  const auto g = test::random_gradient(layout.size(), 73);
  Message m;
  c->compress(g, m);
  round_to_encoding(m, {});
  c->commit(m);
  const auto& memory = dynamic_cast<const ErrorFeedback&>(*c).memory();
  const std::vector<float> before(memory.residual().begin(), memory.residual().end());
  auto bad = g;
  bad[3] = std::numeric_limits<float>::infinity();
  CHECK_THROWS_WITH_AS(c->compress(bad, m), doctest::Contains("non-finite"), Error);
  CHECK(std::vector<float>(memory.residual().begin(), memory.residual().end()) == before);
}

TEST_CASE("the push encoder rounds before committing, so error feedback sees the decoded values") {
  const auto layout = test::small_layout();
  PushEncoder push(layout, make_compressor(named("topk-ef"), layout),
                   {IndexEncoding::delta_varint, ValueEncoding::f16, 127});
  std::vector<double> balance(layout.size(), 0.0);
  Message decoded;
  for (int t = 0; t < 10; ++t) {
    const auto g = test::random_gradient(layout.size(), 200 + static_cast<std::uint64_t>(t));
    for (std::size_t i = 0; i < g.size(); ++i) balance[i] += g[i];
    const auto bytes = push.encode(g, static_cast<std::uint64_t>(t), 3);
    decode(bytes, layout, decoded);
    CHECK(decoded.base_version == static_cast<std::uint64_t>(t));
    std::vector<double> got(layout.size(), 0.0);
    accumulate(layout, decoded, got);
    for (std::size_t i = 0; i < g.size(); ++i) balance[i] -= got[i];
  }
  require_close(balance, dynamic_cast<const ErrorFeedback&>(push.compressor()).memory().residual());
}

TEST_CASE("compressor options are checked") {
  const auto layout = test::small_layout();
  CHECK_THROWS_WITH_AS(make_compressor(named("zip"), layout), doctest::Contains("unknown compressor"), Error);
  CHECK_THROWS_AS(make_compressor(named("topk", 0.0), layout), Error);
  CHECK_THROWS_AS(make_compressor(named("adacomp", 1.5), layout), Error);
  CompressorOptions o = named("qsgd");
  o.levels = 0;
  CHECK_THROWS_AS(make_compressor(o, layout), Error);
  o = named("dgc");
  o.error_feedback = true;
  CHECK_THROWS_AS(make_compressor(o, layout), Error);
  auto c = make_compressor(named("topk"), layout);
  Message m;
  std::vector<float> wrong(layout.size() - 1, 0.0F);
  CHECK_THROWS_AS(c->compress(wrong, m), Error);
  std::vector<float> nan(layout.size(), 0.0F);
  nan[5] = std::nanf("");
  CHECK_THROWS_AS(c->compress(nan, m), Error);
  for (const auto& name : compressor_names()) CHECK_NOTHROW((void)make_compressor(named(name), layout));
}

}  // namespace rnn
