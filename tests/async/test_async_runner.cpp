// The asynchronous emulator: reproducibility, staleness against theory, accounting of every push,
// and that it learns.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>

#include "async/same_points.hpp"
#include "rnn/async/runner.hpp"
#include "rnn/models/registry.hpp"
#include "train/synthetic.hpp"

namespace rnn {
namespace {

DatasetPair small_digits(int train = 600, int test = 200) {
  return {test::synthetic_digits(train, 1), test::synthetic_digits(test, 2)};
}

AsyncOptions quick_options() {
  AsyncOptions o;
  o.workers = 8;
  o.batch = 10;
  o.max_updates = 120;
  o.eval_every = 40;
  o.threads = 2;
  o.progress = false;
  o.compressor.name = "adacomp";
  o.compressor.ratio = 0.05;
  o.server.policy = StepPolicy::per_parameter_staleness;
  o.server.learning_rate = 0.1F;
  return o;
}

struct Run {
  AsyncReport report;
  std::vector<float> params;
};

Run run(const Model& model, const DatasetPair& data, const AsyncOptions& o) {
  Run r;
  r.params = model.initial_parameters(o.seed);
  r.report = run_async(model, r.params, data, o);
  return r;
}

}  // namespace

TEST_CASE("virtual mode: the same seed gives the same run on 1, 2 and 3 threads") {
  const auto model = make_model("mlp");
  const DatasetPair data = small_digits();
  AsyncOptions o = quick_options();
  o.reliability.crash_prob = 0.05;
  o.reliability.loss_prob = 0.05;
  o.reliability.down_time = 0.5;
  o.devices.speed = parse_distribution("lognormal:0,0.5", DeviceProperty::speed);
  o.threads = 1;
  const Run one = run(*model, data, o);
  o.threads = 2;
  const Run two = run(*model, data, o);
  o.threads = 3;
  const Run three = run(*model, data, o);
  test::check_same_points(one.report.points, two.report.points);
  test::check_same_points(one.report.points, three.report.points);
  CHECK(one.params == two.params);
  CHECK(one.params == three.params);
  // …and a different seed gives a different run.
  o.seed = 2;
  const Run other = run(*model, data, o);
  CHECK(other.params != one.params);
}

TEST_CASE("virtual mode: equal devices without faults are a round-robin, every push N - 1 updates stale") {
  const auto model = make_model("mlp");
  const DatasetPair data = small_digits();
  AsyncOptions o = quick_options();
  o.workers = 7;
  o.max_updates = 7 * 10;
  o.eval_every = 7;
  o.devices.uplink = parse_distribution("inf", DeviceProperty::uplink);  // every round takes the same time
  const Run r = run(*model, data, o);
  REQUIRE(r.report.points.size() == 11);  // update 0, then every 7
  // The first round: all workers fetched version 0, so their pushes are 0 … N − 1 updates stale.
  CHECK(r.report.points[1].staleness_max == 6);
  CHECK(r.report.points[1].staleness_mean == doctest::Approx(3.0));
  // From then on every push has delay exactly N − 1.
  for (std::size_t i = 2; i < r.report.points.size(); ++i) {
    CHECK(r.report.points[i].staleness_mean == doctest::Approx(6.0));
    CHECK(r.report.points[i].staleness_p50 == 6);
    CHECK(r.report.points[i].staleness_max == 6);
  }
}

TEST_CASE("every push is accounted for under crashes, departures and message loss") {
  const auto model = make_model("rnl_deep");
  const DatasetPair data = small_digits();
  for (const AsyncMode mode : {AsyncMode::virtual_time, AsyncMode::threads}) {
    CAPTURE(to_string(mode));
    AsyncOptions o = quick_options();
    o.mode = mode;
    o.workers = 12;
    o.max_updates = 150;
    o.reliability.crash_prob = 0.2;
    o.reliability.down_time = 0.3;
    o.reliability.leave_prob = 0.01;
    o.reliability.loss_prob = 0.1;
    Run r = run(*model, data, o);
    REQUIRE(!r.report.points.empty());
    for (const EvalPoint& p : r.report.points) {
      CHECK(p.pushes_applied + p.pushes_lost + p.pushes_rejected == p.pushes_sent);
      CHECK(p.pushes_applied == p.updates);
    }
    const EvalPoint& last = r.report.points.back();
    CHECK(last.pushes_lost > 0);
    CHECK(last.crashes > 0);
    // RNL weights never negative, nothing NaN.
    for (const Segment& s : model->layout().segments()) {
      for (std::size_t i = s.offset; i < s.offset + s.size(); ++i) {
        REQUIRE(std::isfinite(r.params[i]));
        if (s.non_negative) REQUIRE(r.params[i] >= 0.0F);
      }
    }
  }
}

TEST_CASE("a run stops when every worker has left") {
  const auto model = make_model("mlp");
  const DatasetPair data = small_digits();
  AsyncOptions o = quick_options();
  o.reliability.leave_prob = 0.5;
  o.max_updates = 100000;
  const Run r = run(*model, data, o);
  CHECK(r.report.reason == StopReason::no_workers);
  CHECK(r.report.points.back().workers_active == 0);
  CHECK(r.report.points.back().departures == o.workers);
}

TEST_CASE("a residual compressor is refused under a server step that varies, before any push") {
  const auto model = make_model("mlp");
  const DatasetPair data = small_digits();
  AsyncOptions o = quick_options();
  o.compressor.name = "topk-ef";
  o.server.policy = StepPolicy::plain;
  o.server.rule = ServerRule::adam;
  CHECK_THROWS_WITH_AS(run(*model, data, o), doctest::Contains("residual"), Error);
  CHECK_THROWS_AS(check(o, model->layout()), Error);
  o.server.rule = ServerRule::sgd;  // one constant step: the residual's assumption holds
  CHECK_NOTHROW(check(o, model->layout()));
  o.server.policy = StepPolicy::per_parameter_staleness;
  CHECK_THROWS_AS(check(o, model->layout()), Error);
}

TEST_CASE("both modes learn the synthetic digits") {
  const auto model = make_model("mlp");
  const DatasetPair data = small_digits(2000, 500);
  for (const AsyncMode mode : {AsyncMode::virtual_time, AsyncMode::threads}) {
    CAPTURE(to_string(mode));
    AsyncOptions o = quick_options();
    o.mode = mode;
    o.max_updates = 400;
    o.eval_every = 200;
    o.server.learning_rate = 0.05F;
    const Run r = run(*model, data, o);
    CHECK(r.report.reason == StopReason::max_updates);
    CHECK(r.report.points.front().test_accuracy < 0.4);
    CHECK(r.report.points.back().test_accuracy > 0.9);
  }
}

TEST_CASE("virtual time follows the device model") {
  const auto model = make_model("mlp");
  const DatasetPair data = small_digits();
  AsyncOptions o = quick_options();
  o.workers = 1;
  o.max_updates = 5;
  o.eval_every = 1;
  o.compressor.name = "none";
  o.devices.sample_seconds = 0.01;                                          // 0.1 s per batch of 10
  o.devices.latency = parse_distribution("20", DeviceProperty::latency);    // 20 ms each way
  o.devices.uplink = parse_distribution("8", DeviceProperty::uplink);       // 1 MB/s
  o.devices.downlink = parse_distribution("16", DeviceProperty::downlink);  // 2 MB/s
  const Run r = run(*model, data, o);
  REQUIRE(r.report.points.size() == 6);
  const double model_bytes = 16.0 + 4.0 * static_cast<double>(model->parameter_count());
  for (std::size_t i = 1; i < r.report.points.size(); ++i) {
    const double push_bytes =
        static_cast<double>(r.report.points[i].ingress_bytes - r.report.points[i - 1].ingress_bytes);
    const double round = 0.02 + model_bytes / 2e6 + 0.1 + 0.02 + push_bytes / 1e6;
    CHECK(r.report.points[i].virtual_seconds - r.report.points[i - 1].virtual_seconds == doctest::Approx(round));
  }
}

}  // namespace rnn
