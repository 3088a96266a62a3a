// Checkpoints of asynchronous runs: a virtual-mode run resumed from a checkpoint (periodic or
// written on interruption) ends exactly as one that was never stopped; bad checkpoints are refused.
#include <doctest/doctest.h>

#include <atomic>
#include <fstream>

#include "async/same_points.hpp"
#include "rnn/async/runner.hpp"
#include "rnn/core/error.hpp"
#include "rnn/models/registry.hpp"
#include "support/temp_dir.hpp"
#include "train/synthetic.hpp"

namespace rnn {
namespace {

DatasetPair small_digits() {
  return {test::synthetic_digits(600, 1), test::synthetic_digits(200, 2)};
}

struct Outcome {
  AsyncReport report;
  std::vector<float> params;
};

Outcome run(const Model& model, const DatasetPair& data, const AsyncOptions& o) {
  Outcome r;
  r.params = model.initial_parameters(o.seed);
  r.report = run_async(model, r.params, data, o);
  return r;
}

// Settings that exercise every kind of state: a residual memory, random streams, server momentum
// or Adam, device heterogeneity, crashes and message loss, dropout masks.
std::vector<AsyncOptions> configurations() {
  AsyncOptions base;
  base.workers = 9;
  base.max_updates = 120;
  base.eval_every = 20;
  base.threads = 2;
  base.progress = false;
  base.devices.speed = parse_distribution("lognormal:0,0.6", DeviceProperty::speed);
  base.reliability.crash_prob = 0.05;
  base.reliability.down_time = 0.2;
  base.reliability.loss_prob = 0.05;
  std::vector<AsyncOptions> all;
  AsyncOptions ef = base;
  ef.compressor.name = "topk-ef";
  ef.compressor.ratio = 0.05;
  ef.server.policy = StepPolicy::plain;
  ef.server.learning_rate = 0.05F;
  all.push_back(ef);
  AsyncOptions adam = base;
  adam.compressor.name = "randomk";
  adam.compressor.ratio = 0.1;
  adam.server.policy = StepPolicy::global_staleness;
  adam.server.rule = ServerRule::adam;
  adam.server.learning_rate = 1e-3F;
  adam.lr_decay = 0.5F;
  adam.lr_decay_every = 50;
  all.push_back(adam);
  AsyncOptions ada = base;
  ada.compressor.name = "adacomp";
  ada.compressor.ratio = 0.05;
  ada.server.policy = StepPolicy::per_parameter_staleness;
  ada.server.rule = ServerRule::momentum;
  ada.server.learning_rate = 0.02F;
  all.push_back(ada);
  return all;
}

}  // namespace

TEST_CASE("virtual mode: a run resumed from its checkpoint ends bit-identical to an uninterrupted one") {
  ModelOptions mo;
  mo.dropout = 0.2F;
  const auto model = make_model("mlp", mo);
  const DatasetPair data = small_digits();
  test::TempDir dir;
  int n = 0;
  for (AsyncOptions o : configurations()) {
    CAPTURE(o.compressor.name);
    const Outcome whole = run(*model, data, o);
    // Stopped at update 60 (a periodic checkpoint at 40, and the final one at 60) …
    o.checkpoint = dir / ("c" + std::to_string(n++) + ".ckpt");
    o.checkpoint_every = 40;
    o.max_updates = 60;
    (void)run(*model, data, o);
    // … then resumed to 120, on another number of threads.
    o.max_updates = 120;
    o.resume = o.checkpoint;
    o.threads = 3;
    const Outcome resumed = run(*model, data, o);
    test::check_same_points(whole.report.points, resumed.report.points);
    CHECK(resumed.params == whole.params);
    CHECK(resumed.report.points[3].restored);
    CHECK(!resumed.report.points.back().restored);
  }
}

TEST_CASE("virtual mode: a run stopped from outside checkpoints where it stands and resumes exactly") {
  const auto model = make_model("mlp");
  const DatasetPair data = small_digits();
  test::TempDir dir;
  AsyncOptions o = configurations()[2];
  const Outcome whole = run(*model, data, o);
  std::atomic<bool> stop{false};
  o.stop = &stop;
  o.checkpoint = dir / "stopped.ckpt";
  Outcome stopped;
  stopped.params = model->initial_parameters(o.seed);
  stopped.report = run_async(*model, stopped.params, data, o, [&](const EvalPoint& p) {
    if (p.updates == 40) stop = true;  // stops at the next event, between evaluation points
  });
  REQUIRE(stopped.report.reason == StopReason::interrupted);
  CHECK(stopped.report.points.back().updates == 40);
  o.stop = nullptr;
  o.resume = o.checkpoint;
  const Outcome resumed = run(*model, data, o);
  test::check_same_points(whole.report.points, resumed.report.points);
  CHECK(resumed.params == whole.params);
}

TEST_CASE("checkpoints: other settings, corruption and truncation are refused with the file named") {
  const auto model = make_model("mlp");
  const DatasetPair data = small_digits();
  test::TempDir dir;
  AsyncOptions o = configurations()[0];
  o.max_updates = 20;
  o.checkpoint = dir / "run.ckpt";
  (void)run(*model, data, o);
  o.resume = o.checkpoint;
  o.checkpoint.clear();
  o.max_updates = 40;
  {
    AsyncOptions other = o;
    other.workers = 10;
    CHECK_THROWS_WITH_AS((void)run(*model, data, other), doctest::Contains("workers"), Error);
    other = o;
    other.compressor.ratio = 0.5;
    CHECK_THROWS_WITH_AS((void)run(*model, data, other), doctest::Contains("ratio"), Error);
  }
  std::vector<char> bytes;
  {
    std::ifstream in(o.resume, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  const auto write = [&](const std::vector<char>& b) {
    std::ofstream out(o.resume, std::ios::binary | std::ios::trunc);
    out.write(b.data(), static_cast<std::streamsize>(b.size()));
  };
  auto flipped = bytes;
  flipped[flipped.size() / 2] = static_cast<char>(flipped[flipped.size() / 2] ^ 0x10);
  write(flipped);
  CHECK_THROWS_WITH_AS((void)run(*model, data, o), doctest::Contains("checksum"), Error);
  write(std::vector<char>(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(bytes.size() / 3)));
  CHECK_THROWS_WITH_AS((void)run(*model, data, o), doctest::Contains("run.ckpt"), Error);
  write({'n', 'o', 't', ' ', 'a', ' ', 'c', 'k', 'p', 't', '!', '!'});
  CHECK_THROWS_WITH_AS((void)run(*model, data, o), doctest::Contains("not an rnnl checkpoint"), Error);
  write(bytes);
  CHECK_NOTHROW((void)run(*model, data, o));
}

}  // namespace rnn
