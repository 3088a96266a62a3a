#pragma once
// Emulated edge devices: how fast each worker computes and how fast its link is. A round of a
// worker in virtual time (emulator cost model):
//
//   download = latency + model bytes / downlink
//   compute  = batch · sample_seconds / speed
//   upload   = latency + encoded push bytes / uplink          (the codec's real byte count)
//
// Each property is drawn per worker from a distribution over the population:
//
//   V, constant:V          every device V
//   uniform:LO,HI          uniform in [LO, HI]
//   two-class:FRAC,FACTOR  a fraction FRAC of the devices (exactly round(FRAC · N), chosen at
//                          random) is FACTOR times slower than the rest, which have the option's
//                          default value: speed and bandwidth divided by FACTOR, latency multiplied
//   lognormal:MU,SIGMA     exp(N(MU, SIGMA²)) (device speeds in FedScale are modelled this way)
//
// Units: speed is a multiplier of the reference device's (1 = sample_seconds per sample);
// bandwidths in Mbit/s ("inf": no transfer time); latency in milliseconds.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace rnn {

struct Distribution {
  enum class Kind : std::uint8_t { constant, uniform, two_class, lognormal };
  Kind kind = Kind::constant;
  double a = 1.0;  // constant: V; uniform: LO; two-class: FRAC; lognormal: MU
  double b = 0.0;  // uniform: HI; two-class: FACTOR; lognormal: SIGMA
  std::string spec;
};

enum class DeviceProperty : std::uint8_t { speed, uplink, downlink, latency };

// Parses a spec for `property` (for messages and for what "slower" means); `fallback` is the value
// of the fast class of a two-class population. Throws rnn::Error naming the option and the spec.
[[nodiscard]] Distribution parse_distribution(std::string_view spec, DeviceProperty property);
[[nodiscard]] std::string_view property_name(DeviceProperty property);  // "speed", "uplink", …

struct DeviceProfile {
  double speed = 1.0;                      // multiplier of the reference device's compute speed
  double uplink_bytes_per_second = 0.0;    // +inf: no transfer time
  double downlink_bytes_per_second = 0.0;  // +inf: no transfer time
  double latency_seconds = 0.0;            // per message, each way
};

struct DeviceOptions {
  Distribution speed{Distribution::Kind::constant, 1.0, 0.0, "1"};
  Distribution uplink{Distribution::Kind::constant, 10.0, 0.0, "10"};    // Mbit/s: a 4G uplink
  Distribution downlink{Distribution::Kind::constant, 50.0, 0.0, "50"};  // Mbit/s
  Distribution latency{Distribution::Kind::constant, 50.0, 0.0, "50"};   // ms
  double sample_seconds = 1e-3;  // compute per training sample on the reference device (speed 1)
};

// The default value of each property (the fast class of a two-class population).
[[nodiscard]] double default_value(DeviceProperty property);

// One profile per worker, drawn from the run seed (its own stream: adding workers of another kind
// changes no other draw of the run).
[[nodiscard]] std::vector<DeviceProfile> draw_profiles(const DeviceOptions& options, std::size_t workers,
                                                       std::uint64_t seed);

// The three phases of a round, in seconds.
[[nodiscard]] double download_seconds(const DeviceProfile& device, std::size_t bytes);
[[nodiscard]] double compute_seconds(const DeviceProfile& device, const DeviceOptions& options, int batch);
[[nodiscard]] double upload_seconds(const DeviceProfile& device, std::size_t bytes);

}  // namespace rnn
