#pragma once
// A fixed set of worker threads taking tasks from a bounded queue. Submit blocks while the queue
// is full, which is how producers (file listing, SQS receivers) are held back by slow consumers.
// Tasks must not throw; a task that does is caught at the worker's root and logged.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "common/status.h"

namespace cairn {

// Runs fn(i, worker) for every i in [0, n) on up to `workers` threads, the caller's among them
// (worker in [0, workers)), for work split in items of a few milliseconds at most. The caller
// starts alone and starts the other threads only once it has worked for `alone_for` with items
// left (zero: at once), so short work pays no thread start. The first error keeps further items
// from starting and is returned.
Status ParallelFor(size_t n, int workers, std::chrono::microseconds alone_for,
                   const std::function<Status(size_t, int)>& fn);

class ThreadPool {
 public:
  ThreadPool(size_t threads, size_t max_queued);
  ~ThreadPool();  // Waits for every submitted task.
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  void Submit(std::function<void()> task);
  // Blocks until the queue is empty and no task runs.
  void Wait();
  size_t size() const { return workers_.size(); }

 private:
  void Run();

  std::mutex mu_;
  std::condition_variable has_work_;
  std::condition_variable has_room_;
  std::condition_variable idle_;
  std::deque<std::function<void()>> queue_;
  size_t max_queued_;
  size_t running_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace cairn
