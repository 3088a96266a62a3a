#include "rnn/async/task_pool.hpp"

#include "rnn/core/error.hpp"
#include "rnn/core/execution.hpp"

namespace rnn {

TaskPool::TaskPool(std::size_t threads) {
  if (threads == 0) throw Error("a task pool needs at least one thread");
  threads_.reserve(threads);
  for (std::size_t t = 0; t < threads; ++t) threads_.emplace_back([this, t] { run(t); });
}

TaskPool::~TaskPool() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  work_.notify_all();
  for (auto& t : threads_) t.join();
}

void TaskPool::submit(double key, Task task) {
  {
    std::lock_guard lock(mutex_);
    queue_.push(Entry{key, submitted_++, std::move(task)});
  }
  work_.notify_one();
}

void TaskPool::wait_idle() {
  std::unique_lock lock(mutex_);
  idle_.wait(lock, [this] { return queue_.empty() && running_ == 0; });
}

void TaskPool::run(std::size_t thread) {
  const SingleThreadedKernels single_threaded;
  std::unique_lock lock(mutex_);
  for (;;) {
    work_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, and nothing left to run
    // (priority_queue::top is const; the entry is popped right after, so moving from it is safe.)
    Task task = std::move(const_cast<Entry&>(queue_.top()).task);
    queue_.pop();
    ++running_;
    lock.unlock();
    task(thread);
    lock.lock();
    --running_;
    if (queue_.empty() && running_ == 0) idle_.notify_all();
  }
}

}  // namespace rnn
