// libFuzzer target for what rnnl-ps does with the bytes and numbers a network peer controls: the
// serving state (rnn/net/serving_state.hpp) behind the RPC layer, and the token file parser.
//
// An input is a script of calls from up to four workers on one ServingState (adaptive SGD, a small
// layout, at most 12 updates): joins, leaves, heartbeats, pushes (raw bytes, or a valid push with
// bytes flipped, under any push id and any claimed sender), fetches with any held version, and a
// checkpoint round trip (saved, then loaded by a fresh state, possibly with bytes flipped). After
// every call the contract must hold:
//   - nothing but rnn::Error is ever thrown, and only by a corrupted checkpoint's load;
//   - every push is counted once: received = applied + rejected + after_end, and a repeated or
//     older push id changes nothing (the parameters and version stay bit for bit);
//   - the version is the number of applied pushes and never passes max_updates;
//   - a worker that fetches with the version it really holds ends up, after the answer (dense,
//     delta or nothing), with exactly the server's parameters; a fetch naming any other version
//     still returns a well-formed answer;
//   - a checkpoint loaded whole restores the same parameters, version and counters.
// The first byte ≥ 240 sends the rest of the input to the token file parser instead, which must
// return entries or throw rnn::Error. Any violation aborts.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "rnn/compress/codec.hpp"
#include "rnn/core/byte_io.hpp"
#include "rnn/core/error.hpp"
#include "rnn/net/serving_state.hpp"
#include "rnn/net/tokens.hpp"

namespace {

constexpr std::uint64_t max_updates = 12;
constexpr std::uint32_t workers = 4;

void require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz_serving: violated: %s\n", what);
    std::abort();
  }
}

const rnn::ParameterLayout& layout() {
  static const rnn::ParameterLayout l = [] {
    rnn::ParameterLayout p;
    p.add("dense1.w", 3, 4, false);
    p.add("rnl1.w_plus", 2, 3, true);
    return p;
  }();
  return l;
}

rnn::ServerOptions options() {
  rnn::ServerOptions o;
  o.learning_rate = 0.1F;
  o.max_delay = 8;
  return o;
}

class Input {
 public:
  Input(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  [[nodiscard]] bool empty() const { return at_ >= size_; }
  std::uint8_t u8() { return at_ < size_ ? data_[at_++] : 0; }
  std::uint64_t u64() {
    std::uint64_t v = 0;
    for (int k = 0; k < 8; ++k) v |= std::uint64_t{u8()} << (8 * k);
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

// A valid push from `worker` at `base`: a few entries of each tensor.
std::vector<std::uint8_t> valid_push(std::uint32_t worker, std::uint64_t base, std::uint8_t salt) {
  rnn::Message m;
  m.worker = worker;
  m.base_version = base;
  for (std::size_t segment = 0; segment < layout().segments().size(); ++segment) {
    rnn::TensorBlock block;
    block.segment = static_cast<std::uint32_t>(segment);
    block.indices = {0U, 1U + salt % 3U};
    block.values = {0.25F * static_cast<float>(salt % 7) - 0.5F, 0.125F};
    m.blocks.push_back(block);
  }
  std::vector<std::uint8_t> bytes;
  rnn::encode(m, layout(), rnn::CodecOptions{}, bytes);
  return bytes;
}

std::vector<float> initial() {
  std::vector<float> p(layout().size());
  for (std::size_t i = 0; i < p.size(); ++i) p[i] = 0.5F + 0.01F * static_cast<float>(i);
  return p;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

void check_counters(const rnn::net::ServingState& state) {
  const rnn::net::ServingCounters c = state.counters();
  require(c.received == c.applied + c.rejected + c.after_end, "received = applied + rejected + after_end");
  require(state.version() == c.applied, "the version is the number of applied pushes");
  require(state.version() <= max_updates, "no push applied after max_updates");
}

void fuzz_tokens(Input& in) {
  const auto text = in.take(4096);
  try {
    const auto entries =
        rnn::net::TokenTable::parse(std::string(reinterpret_cast<const char*>(text.data()), text.size()), "fuzz");
    require(!entries.empty(), "a parsed token file has entries");
  } catch (const rnn::Error&) {
  }
}

struct Mirror {  // what a worker holds
  std::uint64_t version = 0;
  std::vector<float> parameters;
};

void fuzz_state(Input& in) {
  rnn::net::ServingState state(layout(), initial(), options(), max_updates);
  std::vector<Mirror> mirrors(workers);
  std::vector<std::uint64_t> next_id(workers, 1);
  for (int call = 0; call < 48 && !in.empty(); ++call) {
    const std::uint8_t op = in.u8();
    const std::uint32_t worker = op % workers;
    switch ((op / workers) % 8) {
      case 0: next_id[worker] = state.join(worker); break;
      case 1: state.leave(worker); break;
      case 2: state.heartbeat(worker); break;
      case 3:
      case 4: {  // a push: valid, or with bytes flipped; under the next id, an old one, or any
        const std::uint8_t how = in.u8();
        std::vector<std::uint8_t> bytes;
        if (how & 1U) {
          const auto raw = in.take(in.u8());
          bytes.assign(raw.begin(), raw.end());
        } else {
          const std::uint32_t sender = (how & 2U) ? (worker + 1) % workers : worker;
          bytes = valid_push(sender, (how & 4U) ? in.u64() % (state.version() + 2) : state.version(), in.u8());
          for (int flips = (how >> 3) & 3; flips > 0 && !bytes.empty(); --flips)
            bytes[in.u8() % bytes.size()] ^= static_cast<std::uint8_t>(1U << (in.u8() % 8));
        }
        const std::uint8_t id_choice = in.u8() % 4;
        const std::uint64_t id = id_choice == 0   ? next_id[worker]
                                 : id_choice == 1 ? next_id[worker] - 1  // a retry (or 0 at first)
                                 : id_choice == 2 ? next_id[worker] + in.u8() % 3
                                                  : in.u64();
        const auto before = state.observe();
        const auto counters_before = state.counters();
        const rnn::net::PushAnswer answer = state.push(worker, id, bytes);
        const auto after = state.observe();
        if (answer.verdict != rnn::net::PushVerdict::applied) {
          require(before.first == after.first && same_bits(before.second, after.second),
                  "a push not applied changes nothing");
        } else {
          require(after.first == before.first + 1, "an applied push adds one version");
        }
        if (answer.verdict == rnn::net::PushVerdict::duplicate)
          require(state.counters().received == counters_before.received, "a copy is not counted as a push");
        if (id >= next_id[worker]) next_id[worker] = id + 1;
        if (next_id[worker] == 0) next_id[worker] = std::uint64_t{0} - 1;  // ids at the top of the range
        break;
      }
      case 5:
      case 6: {  // a fetch with the version the worker holds, or any version
        Mirror& mirror = mirrors[worker];
        const bool honest = ((op / workers) % 8) == 5 || mirror.parameters.empty();
        const std::uint64_t have = honest ? mirror.version : in.u64();
        const rnn::net::FetchAnswer answer = state.fetch(worker, have);
        std::vector<float> scratch = mirror.parameters.empty() ? initial() : mirror.parameters;
        if (answer.parameters) {
          require(answer.parameters->size() == scratch.size() * sizeof(float), "dense snapshot size");
          std::memcpy(scratch.data(), answer.parameters->data(), answer.parameters->size());
        } else if (answer.delta_base != 0) {
          require(answer.delta_base == have, "a delta applies to the version asked about");
          rnn::net::apply_delta(answer, scratch);  // a malformed delta would throw: abort
        }
        if (honest) {
          const auto truth = state.observe();
          if (answer.parameters || answer.delta_base != 0 || mirror.version == answer.version) {
            require(answer.version == truth.first, "the answer is at the server's version");
            require(same_bits(scratch, truth.second), "the worker holds the server's parameters after a fetch");
          }
          mirror.version = answer.version;
          mirror.parameters = scratch;
        }
        break;
      }
      case 7: {  // checkpoint round trip, possibly corrupted
        std::vector<std::uint8_t> saved;
        state.save_state(saved);
        const std::uint8_t flips = in.u8() % 3;
        for (std::uint8_t f = 0; f < flips && !saved.empty(); ++f)
          saved[in.u64() % saved.size()] ^= static_cast<std::uint8_t>(1U << (in.u8() % 8));
        rnn::net::ServingState fresh(layout(), initial(), options(), max_updates);
        try {
          rnn::wire::Reader reader(saved);
          fresh.load_state(reader);
        } catch (const rnn::Error&) {
          require(flips > 0, "an intact checkpoint loads");
          break;
        }
        if (flips == 0) {
          const auto a = state.observe();
          const auto b = fresh.observe();
          require(a.first == b.first && same_bits(a.second, b.second), "a checkpoint restores the parameters");
          const auto ca = state.counters();
          const auto cb = fresh.counters();
          require(ca.received == cb.received && ca.applied == cb.applied && ca.duplicates == cb.duplicates,
                  "a checkpoint restores the counters");
        }
        break;
      }
      default: break;
    }
    check_counters(state);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Input in(data, size);
  if (size > 0 && data[0] >= 240) {
    in.u8();
    fuzz_tokens(in);
  } else {
    fuzz_state(in);
  }
  return 0;
}
