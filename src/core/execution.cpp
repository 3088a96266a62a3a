#include "rnn/core/execution.hpp"

#include <omp.h>

namespace rnn {

SingleThreadedKernels::SingleThreadedKernels() : previous_(omp_get_max_threads()) {
  omp_set_num_threads(1);
}

SingleThreadedKernels::~SingleThreadedKernels() {
  omp_set_num_threads(previous_);
}

}  // namespace rnn
