// The push path must not allocate once warmed up: a worker compresses and encodes, the server
// decodes and applies with per-parameter staleness, push after push, and refuses bad pushes
// under every policy. This binary replaces the global operator new with a counting one, so it is
// built only without sanitizers (which bring their own allocator).
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <limits>
#include <new>
#include <vector>

#include "rnn/compress/push.hpp"
#include "rnn/models/registry.hpp"
#include "rnn/server/parameter_server.hpp"
#include "rnn/server/step_policy.hpp"
#include "test_support.hpp"

namespace {
std::atomic<long> allocations{0};
std::atomic<std::size_t> allocated_bytes{0};
}  // namespace

void* operator new(std::size_t size) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  allocated_bytes.fetch_add(size, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t /*size*/) noexcept {
  std::free(p);
}
// The over-aligned forms (the staleness tracker's records are cache-line aligned) count too.
void* operator new(std::size_t size, std::align_val_t alignment) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  allocated_bytes.fetch_add(size, std::memory_order_relaxed);
  const auto align = static_cast<std::size_t>(alignment);
  if (void* p = std::aligned_alloc(align, (std::max<std::size_t>(size, 1) + align - 1) / align * align)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p, std::align_val_t /*alignment*/) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t /*size*/, std::align_val_t /*alignment*/) noexcept {
  std::free(p);
}

namespace rnn {

TEST_CASE("the counter sees allocations, the library's included") {
  const long before = allocations.load();
  const auto model = make_model("mlp");  // allocates inside librnnl
  CHECK(allocations.load() > before);
}

TEST_CASE("after warm-up, compress + encode + decode + per-parameter step allocate nothing") {
  const auto model = make_model("cnn");
  const auto& layout = model->layout();
  std::vector<std::vector<float>> gradients;
  for (std::uint64_t t = 0; t < 4; ++t) gradients.push_back(test::random_gradient(layout.size(), 60 + t));
  std::vector<float> theta(layout.size(), 0.1F);
  for (const char* name : {"adacomp", "topk-ef", "dgc"}) {
    CAPTURE(name);
    CompressorOptions options;
    options.name = name;
    PushEncoder worker(layout, make_compressor(options, layout),
                       {IndexEncoding::delta_varint, ValueEncoding::f16, 127});
    const std::size_t window = 8;
    ServerStep server(layout, StepPolicy::per_parameter_staleness, 0.1F, window);
    Message decoded;
    auto push = [&](std::size_t t) {
      const std::uint64_t base = server.version() > 3 ? server.version() - 3 : 0;
      const auto bytes = worker.encode(gradients[t % gradients.size()], base, 1);
      decode(bytes, layout, decoded);
      return server.apply(decoded, theta).applied();
    };
    for (std::size_t t = 0; t < 4 * window; ++t) REQUIRE(push(t));  // warm-up: every ring slot used
    const long before = allocations.load();
    for (std::size_t t = 0; t < 4 * window; ++t) REQUIRE(push(t));
    CHECK(allocations.load() - before == 0);
  }
}

TEST_CASE("after warm-up, the parameter server receives pushes without allocating, under every update rule") {
  const auto model = make_model("cnn");
  const auto& layout = model->layout();
  std::vector<std::vector<float>> gradients;
  for (std::uint64_t t = 0; t < 4; ++t) gradients.push_back(test::random_gradient(layout.size(), 80 + t));
  for (const ServerRule rule : {ServerRule::sgd, ServerRule::momentum, ServerRule::adam}) {
    CAPTURE(to_string(rule));
    ServerOptions options;
    options.rule = rule;
    options.max_delay = 16;
    options.segment_multipliers = {{"dense", 0.5F}};
    ParameterServer server(layout, std::vector<float>(layout.size(), 0.1F), options);
    CompressorOptions adacomp;
    adacomp.name = "adacomp";
    PushEncoder worker(layout, make_compressor(adacomp, layout), {});
    std::vector<std::uint8_t> bytes;
    auto push = [&](std::size_t t) {
      const std::uint64_t base = server.version() > 5 ? server.version() - 5 : 0;
      const auto encoded = worker.encode(gradients[t % gradients.size()], base, 2);
      bytes.assign(encoded.begin(), encoded.end());
      return server.receive(bytes).applied();
    };
    for (std::size_t t = 0; t < 64; ++t) REQUIRE(push(t));  // warm-up: the history's ring is full
    const std::vector<std::uint8_t> garbage(bytes.begin(), bytes.begin() + 7);
    long before = allocations.load();
    for (std::size_t t = 0; t < 64; ++t) REQUIRE(push(t));
    CHECK(allocations.load() - before == 0);
    // A refused push allocates nothing either (its reason is kept in a fixed buffer) …
    const auto future = worker.encode(gradients[0], server.version() + 1, 2);
    bytes.assign(future.begin(), future.end());
    before = allocations.load();
    CHECK_FALSE(server.receive(bytes).applied());
    CHECK(allocations.load() - before == 0);
    // … except bytes that do not decode: the decoder reports them with an exception, which the
    // server catches and counts. Such pushes are not the steady state of a run.
    CHECK_FALSE(server.receive(garbage).applied());
    CHECK(server.counters().rejected() == 2);
  }
}

TEST_CASE("after warm-up, the server step allocates nothing, whether it applies or refuses a push") {
  const auto model = make_model("cnn");
  const auto& layout = model->layout();
  // An AdaComp-like push: 1 % of each tensor, and a dense block for the first one.
  Message valid;
  for (std::size_t s = 0; s < layout.segments().size(); ++s) {
    TensorBlock& block = valid.blocks.emplace_back();
    block.segment = static_cast<std::uint32_t>(s);
    block.dense = s == 0;
    const std::size_t size = layout.segment(s).size();
    for (std::size_t j = 0; j < size; j += block.dense ? 1 : 100) {
      if (!block.dense) block.indices.push_back(static_cast<std::uint32_t>(j));
      block.values.push_back(0.01F);
    }
  }
  // One push per kind of refusal, each spoiling only the last block.
  std::vector<Message> bad(5, valid);
  bad[0].blocks.back().indices.back() = std::numeric_limits<std::uint32_t>::max();  // malformed
  bad[1].blocks.back().values.back() = std::numeric_limits<float>::quiet_NaN();     // non-finite
  bad[2].blocks.back().values.back() = std::numeric_limits<float>::max();           // the step overflows
  bad[3].base_version = std::numeric_limits<std::uint64_t>::max();                  // from the future
  std::vector<float> theta(layout.size(), 0.1F);
  for (const StepPolicy policy :
       {StepPolicy::plain, StepPolicy::global_staleness, StepPolicy::per_parameter_staleness}) {
    CAPTURE(to_string(policy));
    const std::size_t window = 8;
    ServerStep server(layout, policy, 1000.0F, window);
    std::vector<PushOutcome> outcomes;
    outcomes.reserve(1000);
    auto round = [&] {
      for (std::size_t t = 0; t < 4 * window; ++t) {
        valid.base_version = server.version() > 3 ? server.version() - 3 : 0;
        outcomes.push_back(server.apply(valid, theta).outcome);
        for (Message& push : bad) {
          push.base_version = valid.base_version;
          if (&push == &bad[3]) push.base_version = server.version() + 1;
          if (&push == &bad[4]) push.base_version = server.version() > window ? server.version() - window - 1 : 0;
          if (&push == &bad[2]) push.base_version = server.version();  // delay 0: a full step for every policy
          outcomes.push_back(server.apply(push, theta).outcome);
        }
      }
    };
    round();  // warm-up: every ring slot used
    const long before = allocations.load();
    round();
    CHECK(allocations.load() - before == 0);
    // Every valid push applied, the bad ones refused for their cause (the old one only once the
    // version has passed the window, as in the measured round).
    for (std::size_t k = 0; k < outcomes.size(); k += 6) {
      REQUIRE(outcomes[k] == PushOutcome::applied);
      CHECK(outcomes[k + 1] == PushOutcome::malformed);
      CHECK(outcomes[k + 2] == PushOutcome::non_finite);
      CHECK(outcomes[k + 3] == PushOutcome::non_finite);
      CHECK(outcomes[k + 4] == PushOutcome::from_the_future);
      if (k >= outcomes.size() / 2) CHECK(outcomes[k + 5] == PushOutcome::too_stale);
    }
  }
}

TEST_CASE("a per-parameter server with a million-update window allocates only per-parameter state up front") {
  const auto model = make_model("cnn");
  const auto& layout = model->layout();
  const std::size_t before = allocated_bytes.load();
  ServerStep server(layout, StepPolicy::per_parameter_staleness, 0.1F, StalenessTracker::max_window);
  const std::size_t bytes = allocated_bytes.load() - before;
  // Per parameter: its staleness record at its narrowest (32 bytes), τ (4) and staged step (4);
  // not a million ring slots, nor the widest records.
  CHECK(bytes < 41 * layout.size());
  CHECK(bytes >= 40 * layout.size());
}

// An AdaComp-like push: 1 % of every tensor of `layout`, evenly spaced from an offset that
// moves with the seed (so that pushes overlap in part), `delay` updates old (or as old as the
// server).
void fill_push(Message& push, const ParameterLayout& layout, std::uint64_t seed, std::uint64_t version,
               std::uint64_t delay) {
  push.base_version = version - std::min(version, delay);
  push.blocks.resize(layout.segments().size());
  for (std::size_t s = 0; s < layout.segments().size(); ++s) {
    TensorBlock& block = push.blocks[s];
    block.clear_entries();
    block.segment = static_cast<std::uint32_t>(s);
    const std::size_t size = layout.segment(s).size();
    const std::size_t k = std::max<std::size_t>(1, size / 100);
    const std::size_t stride = size / k;
    // k entries whatever the seed, so that every push is as large as the ones before.
    for (std::size_t m = 0, j = (seed * 7 + s) % (size - (k - 1) * stride); m < k; ++m, j += stride) {
      block.indices.push_back(static_cast<std::uint32_t>(j));
      block.values.push_back(0.001F);
    }
  }
}

TEST_CASE("after warm-up, the per-parameter step allocates nothing at large delays, beyond the widest record too") {
  // 1 000 workers on cnn (delay 999), and a delay beyond the records' reach, where the older part
  // of τ comes from the kept history, on a small layout. Refused pushes (a step that overflows)
  // are undone without allocating either.
  const auto cnn = make_model("cnn");
  const ParameterLayout small = test::small_layout();
  struct Case {
    const char* name;
    const ParameterLayout& layout;
    std::uint64_t delay;
  };
  for (const Case& c :
       {Case{"cnn", cnn->layout(), 999}, Case{"small", small, StalenessTracker::max_record_reach + 100}}) {
    CAPTURE(c.name);
    const ParameterLayout& layout = c.layout;
    ServerStep server(layout, StepPolicy::per_parameter_staleness, 4.0F, c.delay);
    std::vector<float> theta(layout.size(), 0.1F);
    Message push;
    Message overflowing;
    fill_push(overflowing, layout, 0, 0, 0);
    std::uint64_t seed = 0;
    auto round = [&](std::uint64_t pushes) {
      for (std::uint64_t t = 0; t < pushes; ++t, ++seed) {
        fill_push(push, layout, seed, server.version(), c.delay);
        REQUIRE(server.apply(push, theta).applied());
        if (t % 8 == 0) {
          overflowing.base_version = server.version();
          overflowing.blocks.back().values.back() = std::numeric_limits<float>::max();
          REQUIRE(server.apply(overflowing, theta).outcome == PushOutcome::non_finite);
        }
      }
    };
    round(c.delay + 50);  // warm-up: every ring slot used, records as wide as the delay needs
    const long before = allocations.load();
    round(60);
    CHECK(allocations.load() - before == 0);
  }
}

}  // namespace rnn
