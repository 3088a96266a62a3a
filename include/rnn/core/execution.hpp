#pragma once
// Who uses the cores: the one threading rule of the library.
//
// Library kernels (layer products through OpenBLAS or Eigen, convolutions, optimizers, evaluate)
// may open OpenMP teams of omp_get_max_threads() threads on the calling thread. That is right for
// one caller that owns the machine (the synchronous trainer), and wrong for a caller that runs many
// evaluations at once on threads of its own (the asynchronous emulator's pool): teams would nest
// or oversubscribe the cores, and a product computed by a team may round differently from the same
// product on one thread.
//
// The rule: code that runs model work on threads it created itself (std::thread, a pool) holds a
// SingleThreadedKernels guard on each of those threads for as long as it calls the library. Every
// kernel then runs on that thread alone, so
//   - the pool, not the kernels, uses the cores (no oversubscription), and
//   - a result depends only on its inputs, never on how many pool threads there are or which one
//     ran it: the same bits in any thread count and any schedule.
// Code that owns the machine (one caller, e.g. rnnl-train's synchronous trainer) leaves the limit
// alone and lets kernels use OpenMP teams.
//
// The guard sets this thread's OpenMP thread limit (omp_set_num_threads(1)); OpenBLAS's OpenMP
// flavour and Eigen's products follow it. Eigen::setNbThreads() would override it for every thread
// of the process, so library code never calls it.
namespace rnn {

class SingleThreadedKernels {
 public:
  SingleThreadedKernels();
  ~SingleThreadedKernels();
  SingleThreadedKernels(const SingleThreadedKernels&) = delete;
  SingleThreadedKernels& operator=(const SingleThreadedKernels&) = delete;
  SingleThreadedKernels(SingleThreadedKernels&&) = delete;
  SingleThreadedKernels& operator=(SingleThreadedKernels&&) = delete;

 private:
  int previous_;
};

}  // namespace rnn
