// libFuzzer target for the parameter server's step: whatever a push holds, ServerStep::apply
// never throws for it and never crashes, and a push it refuses leaves no trace.
//
// Each input drives three servers at once, one per step policy, each beside a reference server
// with the same policy that is offered only the pushes the first one applied. The input is a
// sequence of pushes, each either
//   (a) bytes through decode(): raw bytes, or a hand-built push (below) that encode() accepted,
//       with bytes the input names flipped, so decoded pushes reach deep into the format; or
//   (b) hand-built from the input, bypassing the codec: any segment numbers and order, dense
//       flags, counts, indices (increasing, repeated, out of range), values (small, huge, NaN,
//       ±inf, raw bits), grid fields and base versions (stale, current, from the future).
// Every push must get the outcome the contract gives it (checked by a separate implementation of
// the rules). After every push the server and its reference must hold the same bits and version;
// after a refused one both then apply a known valid push and must still agree. A fourth
// per-parameter server, with a longer history, sees the same pushes at delays up to 100, so that
// its staleness records widen and its refusals are undone across blocks of versions. Between
// pushes the input may have a server load its reference's saved state (which must succeed and
// change nothing), or have a fresh server load that state with bytes flipped (which must load
// or be refused with rnn::Error, leaving it unchanged). An eighth of the inputs (first byte ≥ 224)
// drive a staleness tracker on its own instead, beside the definition of τ (fuzz_tracker). Any
// difference aborts.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <span>
#include <vector>

#include "compress/test_support.hpp"
#include "rnn/compress/codec.hpp"
#include "rnn/core/error.hpp"
#include "rnn/core/rng.hpp"
#include "rnn/server/step_policy.hpp"

namespace {

constexpr std::size_t max_delay = 3;  // the three servers of each policy
constexpr std::size_t wide_max_delay =
    65;                                // the per-parameter server with a longer history: the narrowest record's reach
constexpr std::size_t max_pushes = 8;  // per input

const rnn::ParameterLayout& layout() {
  static const rnn::ParameterLayout l = rnn::test::small_layout();
  return l;
}

// The input, read front to back; zeros once it runs out.
class Input {
 public:
  Input(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  [[nodiscard]] bool empty() const { return at_ >= size_; }
  std::uint8_t u8() { return at_ < size_ ? data_[at_++] : 0; }
  std::uint32_t u32() {
    std::uint32_t v = 0;
    for (int k = 0; k < 4; ++k) v |= std::uint32_t{u8()} << (8 * k);
    return v;
  }
  std::uint64_t u64() { return std::uint64_t{u32()} | std::uint64_t{u32()} << 32; }
  float f32() {
    const std::uint32_t bits = u32();
    float v = 0.0F;
    std::memcpy(&v, &bits, sizeof v);
    return v;
  }
  std::span<const std::uint8_t> take(std::size_t n) {
    n = std::min(n, size_ - std::min(at_, size_));
    const std::span<const std::uint8_t> bytes(data_ + at_, n);
    at_ += n;
    return bytes;
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t at_ = 0;
};

std::uint64_t base_version(Input& in, std::uint64_t now) {
  const std::uint8_t pick = in.u8();
  switch (pick % 4) {
    case 0: return now - std::min<std::uint64_t>(now, pick / 4 % (max_delay + 3));  // fresh or stale
    case 1: return now + 1 + pick / 4 % 3;                                          // from the future
    case 2: return in.u64();
    default: return now;
  }
}

float value(Input& in) {
  const std::uint8_t pick = in.u8();
  if (pick < 200) return (static_cast<float>(pick) - 100.0F) / 64.0F;
  switch (pick % 4) {
    case 0: return in.f32();  // any bits: NaN, ±inf, subnormal, huge
    case 1: return 3.0e38F;
    case 2: return -std::numeric_limits<float>::infinity();
    default: return std::numeric_limits<float>::quiet_NaN();
  }
}

// A push built field by field from the input; mostly well-formed, so that the checks are
// reached one at a time rather than all failing on the first field.
rnn::Message hand_built(Input& in, std::uint64_t now) {
  const auto& segments = layout().segments();
  rnn::Message push;
  push.base_version = base_version(in, now);
  push.worker = in.u8();
  const std::size_t blocks = in.u8() % (segments.size() + 2);
  std::uint32_t segment = 0;
  for (std::size_t k = 0; k < blocks; ++k) {
    const std::uint8_t kind = in.u8();
    switch (kind % 8) {
      case 0: break;                                               // the same segment again
      case 1: segment = in.u8(); break;                            // any small number
      case 2: segment = in.u32(); break;                           // any number
      default: segment = k == 0 ? 0 : segment + 1 + kind / 8 % 2;  // in order
    }
    rnn::TensorBlock& block = push.blocks.emplace_back();
    block.segment = segment;
    block.dense = (kind & 0x80U) != 0;
    const std::size_t size = segment < segments.size() ? segments[segment].size() : 4;
    const std::uint8_t shape = in.u8();
    std::size_t count = block.dense ? size : shape % 32;
    if (shape >= 240) count += shape % 3 - 1;  // one value short or over (or none)
    std::uint64_t index = in.u8() % 4;
    for (std::size_t j = 0; j < count && index <= UINT32_MAX; ++j) {
      if (!block.dense) block.indices.push_back(static_cast<std::uint32_t>(index));
      block.values.push_back(value(in));
      const std::uint8_t gap = in.u8();
      index += gap < 250 ? 1 + gap % (2 + size / 16) : gap % 2;  // mostly increasing; 0 repeats an index
    }
    if ((shape & 0x20U) != 0 && !block.indices.empty()) block.indices[in.u8() % block.indices.size()] = in.u32();
    if ((shape & 0x40U) != 0 && !block.values.empty() && !block.dense) block.values.pop_back();
    if ((shape & 0x10U) != 0) {
      block.grid = static_cast<rnn::ValueGrid>(in.u8() % 4);  // 3 is not a grid
      block.scales.assign(1, (in.u8() & 1U) != 0 ? in.f32() : 1.0F);
      block.levels = in.u8() % 4 == 0 ? in.u32() : 1U + in.u8();
    }
  }
  return push;
}

// Bytes for decode(): raw, or a hand-built push that encode() accepts with bytes flipped.
std::vector<std::uint8_t> encoded(Input& in, std::uint64_t now) {
  std::vector<std::uint8_t> bytes;
  const std::uint8_t how = in.u8();
  if ((how & 1U) == 0) {
    const auto raw = in.take(in.u8() * 4U);
    return {raw.begin(), raw.end()};
  }
  const rnn::Message push = hand_built(in, now);
  rnn::CodecOptions codec;
  codec.indices = static_cast<rnn::IndexEncoding>((how >> 1U) & 1U);
  codec.values = static_cast<rnn::ValueEncoding>((how >> 2U) & 3U);
  codec.levels = 1U + in.u8();
  try {
    rnn::encode(push, layout(), codec, bytes);
  } catch (const rnn::Error&) {
    return {};
  }
  for (std::size_t flips = (how >> 4U) % 4; flips > 0 && !bytes.empty(); --flips) {
    bytes[in.u8() * 257U % bytes.size()] ^= in.u8();
  }
  return bytes;
}

// Well-formed pushes: sparse blocks on some tensors and a dense one, values small. Drawn once
// (the fuzzer runs each input in well under a millisecond otherwise spent drawing them).
const std::vector<rnn::Message>& valid_pushes() {
  static const std::vector<rnn::Message> pushes = [] {
    std::vector<rnn::Message> out(16);
    rnn::Rng rng(1, 7);
    for (rnn::Message& push : out) {
      for (std::size_t s = 0; s < layout().segments().size(); ++s) {
        const std::size_t size = layout().segment(s).size();
        const std::uint64_t kind = rng.below(4);
        if (kind == 0) continue;
        rnn::TensorBlock& block = push.blocks.emplace_back();
        block.segment = static_cast<std::uint32_t>(s);
        block.dense = kind == 1 && size < 100;
        for (std::uint32_t j = 0; j < size; ++j) {
          if (!block.dense && rng.uniform() > 0.1F) continue;
          if (!block.dense) block.indices.push_back(j);
          block.values.push_back(0.1F * rng.normal());
        }
      }
    }
    return out;
  }();
  return pushes;
}

// Small valid pushes (a few entries of a few tensors), for the wide server's longer history:
// cheap enough to record a hundred of them per input.
const std::vector<rnn::Message>& light_pushes() {
  static const std::vector<rnn::Message> pushes = [] {
    std::vector<rnn::Message> out(16);
    rnn::Rng rng(2, 7);
    for (rnn::Message& push : out) {
      for (std::size_t s = 0; s < layout().segments().size(); ++s) {
        if (rng.below(2) == 0) continue;
        rnn::TensorBlock& block = push.blocks.emplace_back();
        block.segment = static_cast<std::uint32_t>(s);
        const std::size_t size = layout().segment(s).size();
        for (std::uint32_t j = static_cast<std::uint32_t>(rng.below(4)); j < size && block.indices.size() < 6;
             j += 1 + static_cast<std::uint32_t>(rng.below(4))) {
          block.indices.push_back(j);
          block.values.push_back(0.1F * rng.normal());
        }
      }
    }
    return out;
  }();
  return pushes;
}

// The seed-th valid push, at most `bound` old.
rnn::Message valid_push(std::uint64_t now, std::uint64_t seed, std::size_t bound) {
  rnn::Message push = valid_pushes()[seed % valid_pushes().size()];
  push.base_version = now - std::min<std::uint64_t>(now, seed % (bound + 1));
  return push;
}

const std::vector<float>& initial_params() {
  static const std::vector<float> params = rnn::test::random_gradient(layout().size(), 5, 1.0F);
  return params;
}

// The outcome the server's contract gives `push` at `version`, found here independently of the
// server's code, up to the last check: a push that passes all of these may still be refused as
// non_finite if a step overflows.
rnn::PushOutcome expected_outcome(const rnn::Message& push, std::uint64_t version, std::size_t bound) {
  const auto& segments = layout().segments();
  for (std::size_t k = 0; k < push.blocks.size(); ++k) {
    const rnn::TensorBlock& b = push.blocks[k];
    if (b.segment >= segments.size() || (k > 0 && b.segment <= push.blocks[k - 1].segment)) {
      return rnn::PushOutcome::malformed;
    }
    const std::size_t size = segments[b.segment].size();
    if (b.dense ? b.values.size() != size || !b.indices.empty() : b.indices.size() != b.values.size()) {
      return rnn::PushOutcome::malformed;
    }
    for (std::size_t j = 0; j < b.indices.size(); ++j) {
      if (b.indices[j] >= size || (j > 0 && b.indices[j] <= b.indices[j - 1])) return rnn::PushOutcome::malformed;
    }
    const bool on_grid = b.grid == rnn::ValueGrid::sign || b.grid == rnn::ValueGrid::levels;
    if (b.grid != rnn::ValueGrid::none && !on_grid) return rnn::PushOutcome::malformed;
    if (on_grid &&
        (b.scales.size() != rnn::bucket_count(b.count(), b.bucket) ||
         !std::all_of(b.scales.begin(), b.scales.end(), [](float v) { return std::isfinite(v) && !std::signbit(v); })))
      return rnn::PushOutcome::malformed;
    if (b.grid == rnn::ValueGrid::levels && (b.levels == 0 || b.levels > rnn::max_levels)) {
      return rnn::PushOutcome::malformed;
    }
  }
  for (const rnn::TensorBlock& b : push.blocks) {
    for (const float v : b.values) {
      if (!std::isfinite(v)) return rnn::PushOutcome::non_finite;
    }
  }
  if (push.base_version > version) return rnn::PushOutcome::from_the_future;
  if (version - push.base_version > bound) return rnn::PushOutcome::too_stale;
  return rnn::PushOutcome::applied;
}

// Stops the run with a message; libFuzzer saves the input.
void require(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "fuzz_server_step: %s\n", what);
  std::abort();
}

bool same_result(const rnn::StepResult& a, const rnn::StepResult& b) {
  return a.outcome == b.outcome && a.delay == b.delay && a.entries == b.entries && a.tau_sum == b.tau_sum;
}

std::vector<std::uint8_t> saved(const rnn::ServerStep& step) {
  std::vector<std::uint8_t> bytes;
  step.save_state(bytes);
  return bytes;
}

// A server under test beside its reference, which sees only the pushes the server applied.
struct Pair {
  std::size_t bound;  // max_delay
  rnn::ServerStep server;
  rnn::ServerStep reference;
  std::vector<float> params;
  std::vector<float> expected;

  Pair(rnn::StepPolicy policy, float learning_rate, std::size_t max_delay_of_pair, rnn::NonNegativeMap map,
       float staleness_power)
      : bound(max_delay_of_pair),
        server(layout(), policy, learning_rate, bound),
        reference(layout(), policy, learning_rate, bound),
        params(initial_params()),
        expected(params) {
    for (rnn::ServerStep* step : {&server, &reference}) {
      step->set_nonnegative_map(map);
      step->set_staleness_power(staleness_power);
    }
  }

  void check_same() const {
    require(server.version() == reference.version(), "the server and its reference are at different versions");
    require(std::memcmp(params.data(), expected.data(), params.size() * sizeof(float)) == 0,
            "the server's parameters differ from its reference's");
  }

  void warm(std::uint64_t seed, bool light = false) {
    rnn::Message good = valid_push(server.version(), seed, bound);
    if (light) {
      const rnn::Message& small = light_pushes()[seed % light_pushes().size()];
      good.blocks = small.blocks;
    }
    server.apply(good, params);
    reference.apply(good, expected);
    check_same();
  }

  void offer(const rnn::Message& push, std::uint64_t seed) {
    const rnn::PushOutcome contract = expected_outcome(push, server.version(), bound);
    const rnn::StepResult result = server.apply(push, params);
    const bool overflow = contract == rnn::PushOutcome::applied && result.outcome == rnn::PushOutcome::non_finite;
    require(result.outcome == contract || overflow, "the push got an outcome its contents do not give it");
    if (result.applied()) {
      require(result.reason().empty(), "an applied push has a reason");
      require(same_result(result, reference.apply(push, expected)), "the reference applied the push differently");
      check_same();
      return;
    }
    require(!result.reason().empty() && result.entries == 0, "a refused push has no reason, or entries");
    check_same();  // the refused push changed nothing
    // The valid push applies as on the reference (or, if a huge fuzzed value brought a parameter
    // near the float range's end, both refuse its step).
    const rnn::Message good = valid_push(server.version(), seed, bound);
    const rnn::StepResult after = server.apply(good, params);
    require(after.outcome == rnn::PushOutcome::applied || after.outcome == rnn::PushOutcome::non_finite,
            "a valid push was refused after a refused one");
    require(same_result(after, reference.apply(good, expected)),
            "after a refused push, a valid one applied differently than on the reference");
    check_same();
  }

  // The server takes its reference's saved state: it must load, and be the same server after.
  void reload() {
    const std::vector<std::uint8_t> bytes = saved(reference);
    rnn::wire::Reader in(bytes, "server state");
    try {
      server.load_state(in);
    } catch (const rnn::Error&) {
      require(false, "a server refused its reference's saved state");
    }
    require(saved(server) == bytes, "a loaded server saves another state");
    check_same();
  }

  // A fresh server loads the reference's state with bytes flipped: loaded, or refused unchanged.
  void load_spoilt(Input& in) const {
    std::vector<std::uint8_t> bytes = saved(reference);
    for (std::size_t flips = 1 + in.u8() % 3; flips > 0; --flips) {
      bytes[(std::size_t{in.u8()} << 8U | in.u8()) % bytes.size()] ^= static_cast<std::uint8_t>(1 + in.u8() % 255);
    }
    if ((in.u8() & 1U) != 0) bytes.resize(bytes.size() - 1 - in.u8() % bytes.size() % 64);
    rnn::ServerStep fresh(layout(), server.policy(), server.learning_rate(), bound);
    const std::vector<std::uint8_t> before = saved(fresh);
    rnn::wire::Reader reader(bytes, "server state");
    try {
      fresh.load_state(reader);
    } catch (const rnn::Error&) {
      require(saved(fresh) == before, "a refused server state changed the server");
      return;
    }
    // Loaded: some valid state, which the server goes on from.
    std::vector<float> params_copy = initial_params();
    fresh.apply(valid_push(fresh.version(), 1, bound), params_copy);
  }
};

// The staleness tracker on its own, beside the definition of τ (each index's list of the
// versions that touched it): updates from the input, each counted and recorded at a delay the
// input picks (the records' reach and its neighbours often), then kept or undone; the records
// widened, the state saved and reloaded, idle stretches of empty updates, as the input says.
void fuzz_tracker(Input& in) {
  const rnn::ParameterLayout& l = layout();
  const std::size_t window = 1 + in.u8() % 140;  // across the reaches 65 and 257
  auto tracker = std::make_unique<rnn::StalenessTracker>(l, window);
  std::vector<std::vector<std::uint64_t>> touches(l.size());
  const auto tau_of = [&](std::uint64_t base, std::size_t flat) {
    const std::vector<std::uint64_t>& t = touches[flat];
    return static_cast<std::uint32_t>(t.end() - std::upper_bound(t.begin(), t.end(), base));
  };
  rnn::Message update;
  std::vector<std::uint32_t> expected;
  std::vector<std::uint32_t> tau;
  for (int step = 0; step < 64 && !in.empty(); ++step) {
    const std::uint8_t op = in.u8();
    update.blocks.clear();
    for (std::uint32_t s = 0; s < l.segments().size(); ++s) {
      const std::uint8_t kind = in.u8();
      if (kind % 4 == 0) continue;
      rnn::TensorBlock& block = update.blocks.emplace_back();
      block.segment = s;
      block.dense = kind % 4 == 1;
      const std::size_t size = l.segment(s).size();
      for (std::size_t j = kind / 4 % 8; !block.dense && j < size && block.indices.size() < 12; j += 1 + in.u8() % 16) {
        block.indices.push_back(static_cast<std::uint32_t>(j));
      }
    }
    const std::uint64_t now = tracker->version();
    const std::uint64_t most = std::min<std::uint64_t>(window, now);
    const std::uint8_t pick = in.u8();
    const std::uint64_t near_reach = tracker->record_reach() - 1 + pick % 3;
    const std::uint64_t delay = std::min<std::uint64_t>(most, pick < 128 ? near_reach : pick % (most + 1));
    const std::uint64_t base = now - delay;
    if ((op & 1U) != 0) tracker->reserve_delay(delay);
    expected.clear();
    for (const rnn::TensorBlock& block : update.blocks) {
      const std::size_t offset = l.segment(block.segment).offset;
      const std::size_t count = block.dense ? l.segment(block.segment).size() : block.indices.size();
      for (std::size_t j = 0; j < count; ++j)
        expected.push_back(tau_of(base, offset + (block.dense ? j : block.indices[j])));
    }
    tau.assign(expected.size(), 0);
    tracker->count_and_record(update, base, tau);
    require(tau == expected, "the tracker's τ differ from the definition");
    if ((op & 2U) != 0) {
      tracker->undo_record();
    } else {
      for (const rnn::TensorBlock& block : update.blocks) {
        const std::size_t offset = l.segment(block.segment).offset;
        const std::size_t count = block.dense ? l.segment(block.segment).size() : block.indices.size();
        for (std::size_t j = 0; j < count; ++j)
          touches[offset + (block.dense ? j : block.indices[j])].push_back(now + 1);
      }
    }
    if ((op & 4U) != 0) {
      std::vector<std::uint8_t> bytes;
      tracker->save_state(bytes);
      auto loaded = std::make_unique<rnn::StalenessTracker>(l, window);
      rnn::wire::Reader reader(bytes, "staleness state");
      try {
        loaded->load_state(reader);
      } catch (const rnn::Error&) {
        require(false, "a tracker refused its own saved state");
      }
      tracker = std::move(loaded);
    }
    if ((op & 8U) != 0) {
      // An idle stretch of empty updates: up to a block and a half of versions, or up to the last
      // version before a block of 64 begins, so that the next update is the block's first.
      const std::uint8_t length = in.u8();
      const std::uint64_t idle = length < 128 ? length % 96 : 63 - tracker->version() % 64;
      for (std::uint64_t k = 0; k < idle; ++k) tracker->record(rnn::Message{});
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Input in(data, size);
  const std::uint8_t mode = in.u8();
  if (mode >= 224) {
    fuzz_tracker(in);
    return 0;
  }
  // Rates that keep steps small, and one that makes large values overflow.
  constexpr float learning_rates[] = {0.1F, 1.0F, 1.0e30F};
  const float learning_rate = learning_rates[mode % 3];
  // In which coordinate the non-negative tensor steps, and the staleness scale's exponent.
  constexpr rnn::NonNegativeMap maps[] = {rnn::NonNegativeMap::clamp, rnn::NonNegativeMap::square,
                                          rnn::NonNegativeMap::softplus};
  constexpr float powers[] = {1.0F, 0.5F, 2.0F};
  const rnn::NonNegativeMap map = maps[(mode / 3) % 3];
  const float power = powers[(mode / 9) % 3];
  Pair pairs[] = {{rnn::StepPolicy::plain, learning_rate, max_delay, map, power},
                  {rnn::StepPolicy::global_staleness, learning_rate, max_delay, map, power},
                  {rnn::StepPolicy::per_parameter_staleness, learning_rate, max_delay, map, power},
                  {rnn::StepPolicy::per_parameter_staleness, learning_rate, wide_max_delay, map, power}};
  Pair& wide = pairs[3];
  std::uint64_t seed = 1;
  // A short history, so that delays and per-parameter τ are not all zero; the wide server's may
  // be longer, up to its max_delay, so that pushes reach it at delays up to about 100.
  for (const std::uint8_t warm = in.u8() % 6; seed <= warm; ++seed) {
    for (Pair& pair : pairs) pair.warm(seed);
  }
  const std::uint8_t longer = in.u8();  // half the inputs leave the wide server's history short
  for (std::size_t extra = longer < 128 ? 0 : longer % (wide_max_delay - 5); extra > 0; --extra, ++seed) {
    wide.warm(seed, true);
  }
  rnn::Message decoded;
  for (std::size_t n = 0; n < max_pushes && !in.empty(); ++n, ++seed) {
    // One push for all servers, its base version chosen against the first one's (the others
    // are at the same version unless they refused a step it applied, or the reverse; the wide
    // one is ahead).
    const std::uint64_t now = pairs[0].server.version();
    const rnn::Message* push = nullptr;
    rnn::Message built;
    const std::uint8_t how = in.u8();
    if ((how & 1U) == 0) {
      const std::vector<std::uint8_t> bytes = encoded(in, now);
      try {
        rnn::decode(bytes, layout(), decoded);
      } catch (const rnn::Error&) {
        continue;
      }
      push = &decoded;
    } else {
      built = hand_built(in, now);
      push = &built;
    }
    for (Pair& pair : pairs) pair.offer(*push, seed);
    if ((how & 2U) != 0) pairs[in.u8() % 4].reload();
    if ((how & 4U) != 0) pairs[in.u8() % 4].load_spoilt(in);
  }
  return 0;
}
