// Each compressor against the property that defines it in its paper.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "rnn/compress/adacomp_ibm.hpp"
#include "rnn/compress/codec.hpp"
#include "rnn/compress/compressor.hpp"
#include "rnn/compress/dgc.hpp"
#include "rnn/compress/error_feedback.hpp"
#include "rnn/compress/push.hpp"
#include "rnn/compress/selection.hpp"
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
    for (const float v : b.values) CHECK(std::fabs(v) == b.scale);
}

TEST_CASE("qsgd and terngrad are unbiased and stay on their grids") {
  const auto layout = test::small_layout();
  const auto g = test::random_gradient(layout.size(), 10);
  for (const char* name : {"qsgd", "terngrad"}) {
    CAPTURE(name);
    auto c = make_compressor(named(name), layout);
    std::vector<double> sum(layout.size(), 0.0);
    Message m;
    const int draws = 2000;
    bool on_grid = true;
    for (int t = 0; t < draws; ++t) {
      c->compress(g, m);
      accumulate(layout, m, sum);
      for (const auto& b : m.blocks) {
        on_grid = on_grid && b.dense;
        for (const float v : b.values) {
          const double level = static_cast<double>(v) / b.scale * b.levels;
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
      const double step = static_cast<double>(b.scale) / b.levels;
      for (std::size_t i = 0; i < s.size(); ++i) {
        const double x = std::fabs(g[s.offset + i]) / step;
        const double p = x - std::floor(x);
        const double variance = step * step * p * (1.0 - p) / draws;  // of the mean
        const double error = sum[s.offset + i] / draws - g[s.offset + i];
        pooled_error += std::signbit(g[s.offset + i]) ? -error : error;
        pooled_variance += variance;
        if (std::fabs(error) > 6.0 * std::sqrt(variance) + 3.0 * step / draws) ++outliers;
      }
    }
    CHECK(outliers == 0);
    CHECK(std::fabs(pooled_error) <= 5.0 * std::sqrt(pooled_variance));
  }
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
