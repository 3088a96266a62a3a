#include "config_proto.hpp"

#include <fmt/format.h>

#include "rnn/core/error.hpp"

namespace rnn::net {

void to_proto(const WorkerConfig& c, v1::RunConfig& out) {
  out.set_model(c.model);
  out.set_model_seed(c.model_seed);
  out.set_seed_init(c.seed_init);
  out.set_parameters(c.parameters);
  out.set_train_samples(c.train_samples);
  out.set_workers(c.workers);
  out.set_batch(c.batch);
  out.set_seed(c.seed);
  out.set_shards(to_string(c.shards));
  const CompressorOptions& k = c.compressor;
  out.set_compressor(k.name);
  out.set_ratio(k.ratio);
  out.set_threshold(k.threshold);
  out.set_qsgd_levels(k.levels);
  out.set_qsgd_bucket(k.bucket);
  out.set_terngrad_clip(k.clip_stddev);
  out.set_error_feedback(k.error_feedback);
  out.set_dgc_momentum(k.momentum);
  out.set_warmup_pushes(k.warmup_pushes);
  out.set_dgc_clip(k.clip_norm);
  out.set_conv_bin(k.conv_bin);
  out.set_dense_bin(k.dense_bin);
  out.set_score(k.score);
  out.set_index_encoding(std::string(to_string(c.codec.indices)));
  out.set_value_encoding(std::string(to_string(c.codec.values)));
  out.set_codec_levels(c.codec.levels);
  out.set_clip_norm(c.shaping.clip_norm);
  out.set_normalise_tensors(c.shaping.normalise_tensors);
}

WorkerConfig from_proto(const v1::RunConfig& in) {
  WorkerConfig c;
  c.model = in.model();
  c.model_seed = in.model_seed();
  c.seed_init = in.seed_init();
  c.parameters = in.parameters();
  c.train_samples = in.train_samples();
  c.workers = in.workers();
  if (c.workers == 0) throw Error("the server's configuration has 0 workers");
  c.batch = in.batch();
  if (c.batch <= 0) throw Error(fmt::format("the server's configuration has batch {}", c.batch));
  c.seed = in.seed();
  c.shards = parse_shard_plan(in.shards());
  CompressorOptions& k = c.compressor;
  k.name = in.compressor();
  k.ratio = in.ratio();
  k.threshold = in.threshold();
  k.levels = in.qsgd_levels();
  k.bucket = in.qsgd_bucket();
  k.clip_stddev = in.terngrad_clip();
  k.error_feedback = in.error_feedback();
  k.momentum = in.dgc_momentum();
  k.warmup_pushes = in.warmup_pushes();
  k.clip_norm = in.dgc_clip();
  k.conv_bin = in.conv_bin();
  k.dense_bin = in.dense_bin();
  k.score = in.score();
  c.codec.indices = parse_index_encoding(in.index_encoding());
  c.codec.values = parse_value_encoding(in.value_encoding());
  c.codec.levels = in.codec_levels();
  check_codec_options(c.codec);
  c.shaping.clip_norm = in.clip_norm();
  c.shaping.normalise_tensors = in.normalise_tensors();
  return c;
}

}  // namespace rnn::net
