// The push path must not allocate once warmed up: a worker compresses and encodes, the server
// decodes and applies with per-parameter staleness, push after push, and refuses bad pushes
// under every policy. This binary replaces the global operator new with a counting one, so it is
// built only without sanitizers (which bring their own allocator).
#include <doctest/doctest.h>

#include <atomic>
#include <cstdlib>
#include <limits>
#include <new>
#include <vector>

#include "rnn/compress/push.hpp"
#include "rnn/models/registry.hpp"
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
  // Per parameter: its last touch (16 bytes), τ (4) and staged step (4); not a million ring slots.
  CHECK(bytes < 25 * layout.size());
  CHECK(bytes >= 24 * layout.size());
}

}  // namespace rnn
