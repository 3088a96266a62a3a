// Shards, device profiles, availability traces and the Gamma sampler behind Dirichlet shards.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>

#include "rnn/async/device.hpp"
#include "rnn/async/reliability.hpp"
#include "rnn/core/error.hpp"
#include "rnn/core/rng.hpp"
#include "rnn/data/shards.hpp"
#include "support/temp_dir.hpp"

namespace rnn {
namespace {

std::vector<std::uint8_t> labels_of(std::size_t n, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<std::uint8_t> labels(n);
  for (auto& l : labels) l = static_cast<std::uint8_t>(rng.below(10));
  return labels;
}

// Every sample in exactly one shard, none empty.
void check_partition(const std::vector<std::vector<std::uint32_t>>& shards, std::size_t n) {
  std::vector<int> seen(n, 0);
  for (const auto& shard : shards) {
    CHECK(!shard.empty());
    CHECK(std::is_sorted(shard.begin(), shard.end()));
    for (const auto i : shard) ++seen[i];
  }
  CHECK(std::all_of(seen.begin(), seen.end(), [](int c) { return c == 1; }));
}

std::size_t classes_in(const std::vector<std::uint32_t>& shard, const std::vector<std::uint8_t>& labels) {
  std::set<int> classes;
  for (const auto i : shard) classes.insert(labels[i]);
  return classes.size();
}

}  // namespace

TEST_CASE("iid shards: equal sizes, every sample once, reproducible") {
  const auto labels = labels_of(1003, 1);
  const auto shards = make_shards(labels, 10, 10, parse_shard_plan("iid"), 7);
  check_partition(shards, labels.size());
  for (const auto& s : shards) CHECK((s.size() == 100 || s.size() == 101));
  CHECK(make_shards(labels, 10, 10, parse_shard_plan("iid"), 7) == shards);
  CHECK(make_shards(labels, 10, 10, parse_shard_plan("iid"), 8) != shards);
}

TEST_CASE("classes:K shards give each worker about K classes") {
  const auto labels = labels_of(6000, 2);
  const auto shards = make_shards(labels, 10, 50, parse_shard_plan("classes:2"), 3);
  check_partition(shards, labels.size());
  double mean = 0.0;
  for (const auto& s : shards) {
    const std::size_t c = classes_in(s, labels);
    CHECK(c >= 1);
    CHECK(c <= 4);  // a chunk may straddle two classes
    mean += static_cast<double>(c) / 50.0;
  }
  CHECK(mean < 3.0);
}

TEST_CASE("dirichlet shards: small alpha skews labels, large alpha approaches iid") {
  const auto labels = labels_of(6000, 3);
  const auto skewed = make_shards(labels, 10, 20, parse_shard_plan("dirichlet:0.1"), 4);
  const auto mixed = make_shards(labels, 10, 20, parse_shard_plan("dirichlet:100"), 4);
  check_partition(skewed, labels.size());
  check_partition(mixed, labels.size());
  double skewed_classes = 0.0;
  double mixed_classes = 0.0;
  for (const auto& s : skewed) skewed_classes += static_cast<double>(classes_in(s, labels));
  for (const auto& s : mixed) mixed_classes += static_cast<double>(classes_in(s, labels));
  CHECK(skewed_classes / 20.0 < 5.0);
  CHECK(mixed_classes / 20.0 > 9.5);
}

TEST_CASE("shard plans: bad specs and impossible splits are errors") {
  for (const char* bad : {"", "iid:3", "classes", "classes:0", "classes:x", "dirichlet:0", "dirichlet:-1",
                          "dirichlet:nan", "dirichlet:inf", "random"}) {
    CAPTURE(bad);
    CHECK_THROWS_AS((void)parse_shard_plan(bad), Error);
  }
  CHECK(to_string(parse_shard_plan("classes:3")) == "classes:3");
  const auto labels = labels_of(5, 1);
  CHECK_THROWS_AS((void)make_shards(labels, 10, 6, ShardPlan{}, 1), Error);
}

TEST_CASE("Gamma sampler: mean and variance equal the shape") {
  for (const double shape : {0.3, 1.0, 4.5}) {
    Rng rng(11, static_cast<std::uint64_t>(shape * 10));
    const int n = 200000;
    double sum = 0.0;
    double squares = 0.0;
    for (int i = 0; i < n; ++i) {
      const double x = rng.gamma(shape);
      REQUIRE(x >= 0.0);
      sum += x;
      squares += x * x;
    }
    const double mean = sum / n;
    CHECK(mean == doctest::Approx(shape).epsilon(0.02));
    CHECK(squares / n - mean * mean == doctest::Approx(shape).epsilon(0.05));
  }
}

TEST_CASE("device distributions: parsing, two-class counts, units") {
  CHECK_THROWS_AS((void)parse_distribution("fast", DeviceProperty::speed), Error);
  CHECK_THROWS_AS((void)parse_distribution("0", DeviceProperty::speed), Error);
  CHECK_THROWS_AS((void)parse_distribution("inf", DeviceProperty::speed), Error);
  CHECK_THROWS_AS((void)parse_distribution("nan", DeviceProperty::uplink), Error);
  CHECK_THROWS_AS((void)parse_distribution("uniform:3,1", DeviceProperty::speed), Error);
  CHECK_THROWS_AS((void)parse_distribution("two-class:1.5,2", DeviceProperty::speed), Error);
  CHECK_THROWS_AS((void)parse_distribution("two-class:0.5,0.5", DeviceProperty::speed), Error);
  CHECK_THROWS_AS((void)parse_distribution("lognormal:0,-1", DeviceProperty::speed), Error);
  CHECK_NOTHROW((void)parse_distribution("0", DeviceProperty::latency));

  DeviceOptions o;
  o.speed = parse_distribution("two-class:0.3,4", DeviceProperty::speed);
  o.latency = parse_distribution("two-class:0.3,4", DeviceProperty::latency);
  o.uplink = parse_distribution("uniform:1,2", DeviceProperty::uplink);
  const auto profiles = draw_profiles(o, 100, 5);
  const auto slow =
      std::count_if(profiles.begin(), profiles.end(), [](const DeviceProfile& p) { return p.speed < 1.0; });
  CHECK(slow == 30);
  for (const auto& p : profiles) {
    CHECK((p.speed == 1.0 || p.speed == 0.25));
    CHECK((p.latency_seconds == doctest::Approx(0.05) || p.latency_seconds == doctest::Approx(0.2)));
    CHECK(p.uplink_bytes_per_second >= 1e6 / 8);
    CHECK(p.uplink_bytes_per_second <= 2e6 / 8);
  }
  CHECK(upload_seconds(profiles[0], 0) == doctest::Approx(profiles[0].latency_seconds));
}

TEST_CASE("availability traces: intervals, gaps, errors naming the line") {
  test::TempDir dir;
  const auto path = dir.path() / "trace.txt";
  {
    std::ofstream f(path);
    f << "# worker start end\n1 10 20\n1 30 inf\n\n2 0 5  # then gone\n";
  }
  const Availability a = Availability::read(path, 3);
  CHECK(a.next_on(0, 3.0) == 3.0);  // not named: always on
  CHECK(a.next_on(1, 0.0) == 10.0);
  CHECK(a.next_on(1, 15.0) == 15.0);
  CHECK(a.on_until(1, 15.0) == 20.0);
  CHECK(a.next_on(1, 25.0) == 30.0);
  CHECK(std::isinf(a.on_until(1, 1e9)));
  CHECK(std::isinf(a.next_on(2, 5.0)));
  for (const char* bad : {"3 0 1\n", "0 5 5\n", "0 -1 3\n", "0 x 3\n", "0 1\n", "0 1 2 3\n", "0 0 10\n0 5 20\n"}) {
    CAPTURE(bad);
    {
      std::ofstream f(path);
      f << bad;
    }
    CHECK_THROWS_WITH_AS((void)Availability::read(path, 3), doctest::Contains("trace.txt"), Error);
  }
}

}  // namespace rnn
