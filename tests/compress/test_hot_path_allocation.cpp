// The push path must not allocate once warmed up: a worker compresses and encodes, the server
// decodes and applies with per-parameter staleness, push after push. This binary replaces the
// global operator new with a counting one, so it is built only without sanitizers (which bring
// their own allocator).
#include <doctest/doctest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <vector>

#include "rnn/compress/push.hpp"
#include "rnn/models/registry.hpp"
#include "rnn/server/step_policy.hpp"
#include "test_support.hpp"

namespace {
std::atomic<long> allocations{0};
}  // namespace

void* operator new(std::size_t size) {
  allocations.fetch_add(1, std::memory_order_relaxed);
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
      return server.apply(decoded, theta).applied;
    };
    for (std::size_t t = 0; t < 4 * window; ++t) REQUIRE(push(t));  // warm-up: every ring slot used
    const long before = allocations.load();
    for (std::size_t t = 0; t < 4 * window; ++t) REQUIRE(push(t));
    CHECK(allocations.load() - before == 0);
  }
}

}  // namespace rnn
