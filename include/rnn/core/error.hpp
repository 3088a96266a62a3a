#pragma once
// One exception type for every user-facing failure (bad file, bad option, divergence), so
// applications can catch it, print its message and exit non-zero.
#include <stdexcept>
#include <string>

namespace rnn {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

}  // namespace rnn
