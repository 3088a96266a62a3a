#include "rnn/core/parameters.hpp"

#include <algorithm>

#include "rnn/core/error.hpp"

namespace rnn {

std::size_t ParameterLayout::add(std::string name, std::size_t rows, std::size_t cols, bool non_negative) {
  if (find(name) != nullptr) throw Error("duplicate parameter segment name '" + name + "'");
  segments_.push_back(Segment{std::move(name), size_, rows, cols, non_negative});
  size_ += rows * cols;
  return segments_.size() - 1;
}

const Segment* ParameterLayout::find(std::string_view name) const {
  auto it = std::find_if(segments_.begin(), segments_.end(), [&](const Segment& s) { return s.name == name; });
  return it == segments_.end() ? nullptr : &*it;
}

}  // namespace rnn
