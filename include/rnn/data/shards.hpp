#pragma once
// How a training set is split among emulated workers, each worker seeing only its own shard:
//
//   iid          a seeded shuffle cut into equal parts (sizes differ by at most one)
//   classes:K    label skew by sorting (McMahan et al., AISTATS 2017): the samples, sorted by label,
//                are cut into workers·K equal chunks and each worker gets K chunks at random, so it
//                sees about K classes
//   dirichlet:A  label skew by proportions (Hsu, Qi, Brown 2019): for each class, the shares of
//                the workers are drawn from Dirichlet(A, …, A); small A gives few classes per
//                worker, large A approaches iid
//
// Every sample is in exactly one shard and every shard holds at least one sample (a Dirichlet draw
// that leaves a worker empty gives it one sample from the largest shard). Shards are sorted.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace rnn {

struct ShardPlan {
  enum class Kind : std::uint8_t { iid, classes, dirichlet };
  Kind kind = Kind::iid;
  std::uint32_t classes_per_worker = 0;  // classes:K
  double alpha = 0.0;                    // dirichlet:A
};

// Parses "iid", "classes:K" (K ≥ 1) or "dirichlet:A" (A > 0, finite); throws rnn::Error naming the
// spec otherwise.
[[nodiscard]] ShardPlan parse_shard_plan(std::string_view spec);
[[nodiscard]] std::string to_string(const ShardPlan& plan);

// The shard of each of `workers` workers over samples with these labels (each < classes). Throws
// rnn::Error if there are fewer samples than workers.
[[nodiscard]] std::vector<std::vector<std::uint32_t>> make_shards(std::span<const std::uint8_t> labels, int classes,
                                                                  std::size_t workers, const ShardPlan& plan,
                                                                  std::uint64_t seed);

}  // namespace rnn
