#pragma once
// A fixed pool of threads that run tasks by priority (smallest key first; ties in submission
// order). Each pool thread holds a SingleThreadedKernels guard (rnn/core/execution.hpp) for its
// whole life, so every kernel a task calls runs on that thread alone, and a task's result does not
// depend on which thread ran it or on how many threads there are.
//
// A task receives the index of the thread running it, so callers can keep per-thread scratch
// (workspaces, gradient buffers) in a plain vector. Tasks must not throw: they report failures
// through their own results. wait_idle() returns once every task submitted so far has finished.
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <queue>
#include <thread>
#include <vector>

namespace rnn {

class TaskPool {
 public:
  using Task = std::function<void(std::size_t thread)>;

  explicit TaskPool(std::size_t threads);
  ~TaskPool();
  TaskPool(const TaskPool&) = delete;
  TaskPool& operator=(const TaskPool&) = delete;
  TaskPool(TaskPool&&) = delete;
  TaskPool& operator=(TaskPool&&) = delete;

  [[nodiscard]] std::size_t size() const { return threads_.size(); }
  void submit(double key, Task task);
  void wait_idle();

 private:
  struct Entry {
    double key;
    std::uint64_t order;
    Task task;
  };
  struct Later {
    bool operator()(const Entry& a, const Entry& b) const { return a.key != b.key ? a.key > b.key : a.order > b.order; }
  };
  void run(std::size_t thread);

  std::mutex mutex_;
  std::condition_variable work_;
  std::condition_variable idle_;
  std::priority_queue<Entry, std::vector<Entry>, Later> queue_;
  std::uint64_t submitted_ = 0;
  std::size_t running_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace rnn
