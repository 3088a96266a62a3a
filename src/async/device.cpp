#include "rnn/async/device.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <numeric>

#include <fmt/format.h>

#include "rnn/core/error.hpp"
#include "rnn/core/rng.hpp"

namespace rnn {
namespace {

bool parse_double(std::string_view text, double& out) {
  if (text == "inf") {
    out = std::numeric_limits<double>::infinity();
    return true;
  }
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc() && ptr == end && std::isfinite(out);
}

bool parse_pair(std::string_view text, double& first, double& second) {
  const auto comma = text.find(',');
  return comma != std::string_view::npos && parse_double(text.substr(0, comma), first) &&
         parse_double(text.substr(comma + 1), second);
}

// Whether an infinite value makes sense: a link with no transfer time does; an infinitely fast
// device or an infinite latency does not.
bool may_be_infinite(DeviceProperty property) {
  return property == DeviceProperty::uplink || property == DeviceProperty::downlink;
}

constexpr double kBytesPerMegabit = 1e6 / 8.0;

}  // namespace

std::string_view property_name(DeviceProperty property) {
  switch (property) {
    case DeviceProperty::speed: return "speed";
    case DeviceProperty::uplink: return "uplink";
    case DeviceProperty::downlink: return "downlink";
    case DeviceProperty::latency: return "latency";
  }
  return "?";
}

double default_value(DeviceProperty property) {
  const DeviceOptions defaults;
  switch (property) {
    case DeviceProperty::speed: return defaults.speed.a;
    case DeviceProperty::uplink: return defaults.uplink.a;
    case DeviceProperty::downlink: return defaults.downlink.a;
    case DeviceProperty::latency: return defaults.latency.a;
  }
  return 0.0;
}

Distribution parse_distribution(std::string_view spec, DeviceProperty property) {
  Distribution d;
  d.spec = std::string(spec);
  const auto colon = spec.find(':');
  const std::string_view kind = colon == std::string_view::npos ? std::string_view{} : spec.substr(0, colon);
  const std::string_view args = colon == std::string_view::npos ? spec : spec.substr(colon + 1);
  const auto fail = [&](std::string_view why) {
    return Error(fmt::format("{} '{}': {}", property_name(property), spec, why));
  };
  const bool latency = property == DeviceProperty::latency;
  if (colon == std::string_view::npos || kind == "constant") {
    d.kind = Distribution::Kind::constant;
    if (!parse_double(args, d.a)) throw fail("expected a number (V or constant:V)");
    if (std::isinf(d.a) && !may_be_infinite(property)) throw fail("must be finite");
    if (latency ? d.a < 0.0 : d.a <= 0.0) throw fail(latency ? "must be ≥ 0" : "must be > 0");
  } else if (kind == "uniform") {
    d.kind = Distribution::Kind::uniform;
    if (!parse_pair(args, d.a, d.b) || std::isinf(d.a) || std::isinf(d.b)) throw fail("expected uniform:LO,HI");
    if (!(d.a <= d.b) || (latency ? d.a < 0.0 : d.a <= 0.0)) throw fail("needs 0 < LO ≤ HI (0 ≤ LO for latency)");
  } else if (kind == "two-class") {
    d.kind = Distribution::Kind::two_class;
    if (!parse_pair(args, d.a, d.b) || std::isinf(d.b)) throw fail("expected two-class:FRAC,FACTOR");
    if (!(d.a >= 0.0 && d.a <= 1.0)) throw fail("FRAC must be in [0, 1]");
    if (!(d.b >= 1.0)) throw fail("FACTOR must be ≥ 1");
  } else if (kind == "lognormal") {
    d.kind = Distribution::Kind::lognormal;
    if (!parse_pair(args, d.a, d.b) || std::isinf(d.a) || std::isinf(d.b)) throw fail("expected lognormal:MU,SIGMA");
    if (!(d.b >= 0.0)) throw fail("SIGMA must be ≥ 0");
  } else {
    throw fail("choose V, constant:V, uniform:LO,HI, two-class:FRAC,FACTOR or lognormal:MU,SIGMA");
  }
  return d;
}

namespace {

std::vector<double> draw(const Distribution& d, DeviceProperty property, std::size_t workers, Rng& rng) {
  std::vector<double> values(workers);
  switch (d.kind) {
    case Distribution::Kind::constant: std::fill(values.begin(), values.end(), d.a); break;
    case Distribution::Kind::uniform:
      for (double& v : values) v = d.a + (d.b - d.a) * static_cast<double>(rng.uniform());
      break;
    case Distribution::Kind::lognormal:
      for (double& v : values) v = std::exp(d.a + d.b * static_cast<double>(rng.normal()));
      break;
    case Distribution::Kind::two_class: {
      const double fast = default_value(property);
      const double slow = property == DeviceProperty::latency ? fast * d.b : fast / d.b;
      std::fill(values.begin(), values.end(), fast);
      std::vector<std::size_t> order(workers);
      std::iota(order.begin(), order.end(), std::size_t{0});
      rng.shuffle(std::span(order));
      const auto slow_count = static_cast<std::size_t>(std::llround(d.a * static_cast<double>(workers)));
      for (std::size_t j = 0; j < slow_count; ++j) values[order[j]] = slow;
      break;
    }
  }
  return values;
}

}  // namespace

std::vector<DeviceProfile> draw_profiles(const DeviceOptions& options, std::size_t workers, std::uint64_t seed) {
  if (!(options.sample_seconds >= 0.0 && std::isfinite(options.sample_seconds)))
    throw Error(fmt::format("sample seconds must be finite and ≥ 0, got {}", options.sample_seconds));
  // One stream per property, so that changing one distribution leaves the others' draws alone.
  Rng speed_rng(seed, 0xDE71CE0);
  Rng up_rng(seed, 0xDE71CE1);
  Rng down_rng(seed, 0xDE71CE2);
  Rng latency_rng(seed, 0xDE71CE3);
  const auto speed = draw(options.speed, DeviceProperty::speed, workers, speed_rng);
  const auto up = draw(options.uplink, DeviceProperty::uplink, workers, up_rng);
  const auto down = draw(options.downlink, DeviceProperty::downlink, workers, down_rng);
  const auto latency = draw(options.latency, DeviceProperty::latency, workers, latency_rng);
  std::vector<DeviceProfile> profiles(workers);
  for (std::size_t w = 0; w < workers; ++w) {
    profiles[w].speed = speed[w];
    profiles[w].uplink_bytes_per_second = up[w] * kBytesPerMegabit;
    profiles[w].downlink_bytes_per_second = down[w] * kBytesPerMegabit;
    profiles[w].latency_seconds = latency[w] * 1e-3;
  }
  return profiles;
}

double download_seconds(const DeviceProfile& device, std::size_t bytes) {
  return device.latency_seconds + static_cast<double>(bytes) / device.downlink_bytes_per_second;
}

double compute_seconds(const DeviceProfile& device, const DeviceOptions& options, int batch) {
  return static_cast<double>(batch) * options.sample_seconds / device.speed;
}

double upload_seconds(const DeviceProfile& device, std::size_t bytes) {
  return device.latency_seconds + static_cast<double>(bytes) / device.uplink_bytes_per_second;
}

}  // namespace rnn
