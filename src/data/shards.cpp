#include "rnn/data/shards.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

#include "rnn/core/error.hpp"
#include "rnn/core/rng.hpp"

namespace rnn {
namespace {

template <typename T>
bool parse_number(std::string_view text, T& out) {
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc() && ptr == end;
}

// Part `part` of `parts` equal parts of n items: [n·part/parts, n·(part+1)/parts).
std::size_t part_begin(std::size_t n, std::size_t part, std::size_t parts) {
  return n * part / parts;
}

std::vector<std::uint32_t> shuffled_indices(std::size_t n, Rng& rng) {
  std::vector<std::uint32_t> order(n);
  std::iota(order.begin(), order.end(), 0U);
  rng.shuffle(std::span(order));
  return order;
}

std::vector<std::vector<std::uint32_t>> iid(std::size_t n, std::size_t workers, Rng& rng) {
  const std::vector<std::uint32_t> order = shuffled_indices(n, rng);
  std::vector<std::vector<std::uint32_t>> shards(workers);
  for (std::size_t w = 0; w < workers; ++w)
    shards[w].assign(order.begin() + static_cast<std::ptrdiff_t>(part_begin(n, w, workers)),
                     order.begin() + static_cast<std::ptrdiff_t>(part_begin(n, w + 1, workers)));
  return shards;
}

std::vector<std::vector<std::uint32_t>> by_sorted_chunks(std::span<const std::uint8_t> labels, std::size_t workers,
                                                         std::size_t per_worker, Rng& rng) {
  const std::size_t n = labels.size();
  // Shuffled first, so that a class's samples are spread over its chunks at random.
  std::vector<std::uint32_t> order = shuffled_indices(n, rng);
  std::stable_sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) { return labels[a] < labels[b]; });
  const std::size_t chunks = workers * per_worker;
  std::vector<std::uint32_t> chunk_order(chunks);
  std::iota(chunk_order.begin(), chunk_order.end(), 0U);
  rng.shuffle(std::span(chunk_order));
  std::vector<std::vector<std::uint32_t>> shards(workers);
  for (std::size_t j = 0; j < chunks; ++j) {
    const std::size_t c = chunk_order[j];
    auto& shard = shards[j / per_worker];
    shard.insert(shard.end(), order.begin() + static_cast<std::ptrdiff_t>(part_begin(n, c, chunks)),
                 order.begin() + static_cast<std::ptrdiff_t>(part_begin(n, c + 1, chunks)));
  }
  return shards;
}

std::vector<std::vector<std::uint32_t>> dirichlet(std::span<const std::uint8_t> labels, int classes,
                                                  std::size_t workers, double alpha, Rng& rng) {
  std::vector<std::vector<std::uint32_t>> of_class(static_cast<std::size_t>(classes));
  for (const std::uint32_t i : shuffled_indices(labels.size(), rng)) of_class[labels[i]].push_back(i);
  std::vector<std::vector<std::uint32_t>> shards(workers);
  std::vector<double> share(workers);
  for (const auto& members : of_class) {
    double total = 0.0;
    for (double& s : share) total += (s = rng.gamma(alpha));
    // Cumulative rounding: the class's samples are cut where the running share crosses each
    // boundary, so the parts add up to the class exactly.
    double running = 0.0;
    std::size_t begin = 0;
    for (std::size_t w = 0; w < workers; ++w) {
      running += share[w];
      const std::size_t end =
          w + 1 == workers
              ? members.size()
              : std::min(members.size(),
                         static_cast<std::size_t>(std::llround(running / total * static_cast<double>(members.size()))));
      if (end > begin)
        shards[w].insert(shards[w].end(), members.begin() + static_cast<std::ptrdiff_t>(begin),
                         members.begin() + static_cast<std::ptrdiff_t>(end));
      begin = std::max(begin, end);
    }
  }
  // A worker with no data could never push: it takes one sample from the largest shard.
  for (auto& shard : shards) {
    if (!shard.empty()) continue;
    auto& largest = *std::max_element(shards.begin(), shards.end(),
                                      [](const auto& a, const auto& b) { return a.size() < b.size(); });
    shard.push_back(largest.back());
    largest.pop_back();
  }
  return shards;
}

}  // namespace

ShardPlan parse_shard_plan(std::string_view spec) {
  ShardPlan plan;
  const auto colon = spec.find(':');
  const std::string_view kind = spec.substr(0, colon);
  const std::string_view value = colon == std::string_view::npos ? std::string_view{} : spec.substr(colon + 1);
  if (kind == "iid" && colon == std::string_view::npos) return plan;
  if (kind == "classes") {
    plan.kind = ShardPlan::Kind::classes;
    if (parse_number(value, plan.classes_per_worker) && plan.classes_per_worker >= 1) return plan;
    throw Error(fmt::format("shards '{}': classes:K needs a whole number K ≥ 1", spec));
  }
  if (kind == "dirichlet") {
    plan.kind = ShardPlan::Kind::dirichlet;
    if (parse_number(value, plan.alpha) && plan.alpha > 0.0 && std::isfinite(plan.alpha)) return plan;
    throw Error(fmt::format("shards '{}': dirichlet:A needs a finite A > 0", spec));
  }
  throw Error(fmt::format("shards '{}': choose iid, classes:K or dirichlet:A", spec));
}

std::string to_string(const ShardPlan& plan) {
  switch (plan.kind) {
    case ShardPlan::Kind::iid: return "iid";
    case ShardPlan::Kind::classes: return fmt::format("classes:{}", plan.classes_per_worker);
    case ShardPlan::Kind::dirichlet: return fmt::format("dirichlet:{}", plan.alpha);
  }
  return "?";
}

std::vector<std::vector<std::uint32_t>> make_shards(std::span<const std::uint8_t> labels, int classes,
                                                    std::size_t workers, const ShardPlan& plan, std::uint64_t seed) {
  if (workers == 0) throw Error("shards: at least one worker is needed");
  if (labels.size() < workers)
    throw Error(fmt::format("shards: {} training samples cannot be split among {} workers", labels.size(), workers));
  if (labels.size() > UINT32_MAX) throw Error("shards: more than 2^32 - 1 samples");
  for (const std::uint8_t label : labels)
    if (label >= classes) throw Error(fmt::format("shards: label {} is not one of {} classes", label, classes));
  Rng rng(seed, 0x5A4D5);
  std::vector<std::vector<std::uint32_t>> shards;
  switch (plan.kind) {
    case ShardPlan::Kind::iid: shards = iid(labels.size(), workers, rng); break;
    case ShardPlan::Kind::classes:
      if (labels.size() < workers * plan.classes_per_worker)
        throw Error(fmt::format("shards: {} samples cannot be cut into {} workers x {} class chunks", labels.size(),
                                workers, plan.classes_per_worker));
      shards = by_sorted_chunks(labels, workers, plan.classes_per_worker, rng);
      break;
    case ShardPlan::Kind::dirichlet: shards = dirichlet(labels, classes, workers, plan.alpha, rng); break;
  }
  for (auto& shard : shards) std::sort(shard.begin(), shard.end());
  return shards;
}

}  // namespace rnn
