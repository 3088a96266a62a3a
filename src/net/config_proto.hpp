#pragma once
// WorkerConfig ⇄ its protobuf message (both directions checked by the worker's own parsers).
#include "parameter_server.pb.h"
#include "rnn/net/worker_config.hpp"

namespace rnn::net {

void to_proto(const WorkerConfig& config, v1::RunConfig& out);
// Throws rnn::Error on a field this build cannot use (unknown encoding, shard plan …).
[[nodiscard]] WorkerConfig from_proto(const v1::RunConfig& in);

}  // namespace rnn::net
