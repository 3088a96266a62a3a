#include "rnn/layers/layer.hpp"

#include <fmt/format.h>

#include "rnn/core/error.hpp"

namespace rnn {

// Only layers that say splits_gradient() are ever asked for these; reaching the defaults is a
// caller's bug, reported by name rather than as a crash.
void Layer::backward_input(std::span<const float> /*params*/, const Matrix& /*x*/, const Matrix& /*y*/,
                           const Matrix& /*dy*/, Matrix* /*dx*/, LayerState* /*state*/) const {
  throw Error(fmt::format("layer '{}' cannot split its gradient (backward_input)", describe()));
}

void Layer::split_gradient(std::span<const GradientSource> /*sources*/, std::size_t /*part*/, std::size_t /*parts*/,
                           LayerState* /*scratch*/, GradientBlockSink& /*sink*/) const {
  throw Error(fmt::format("layer '{}' cannot split its gradient (split_gradient)", describe()));
}

void Layer::split_ranges(std::size_t /*part*/, std::size_t /*parts*/,
                         const std::function<void(std::size_t, std::size_t)>& /*range*/) const {
  throw Error(fmt::format("layer '{}' cannot split its gradient (split_ranges)", describe()));
}

}  // namespace rnn
