#include "common/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <exception>

#include "common/log.h"

namespace cairn {

ThreadPool::ThreadPool(size_t threads, size_t max_queued)
    : max_queued_(max_queued == 0 ? 1 : max_queued) {
  if (threads == 0) threads = 1;
  for (size_t i = 0; i < threads; ++i) workers_.emplace_back([this] { Run(); });
}

ThreadPool::~ThreadPool() {
  {
    std::unique_lock<std::mutex> lock(mu_);
    stopping_ = true;
  }
  has_work_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::Submit(std::function<void()> task) {
  std::unique_lock<std::mutex> lock(mu_);
  has_room_.wait(lock, [this] { return queue_.size() < max_queued_; });
  queue_.push_back(std::move(task));
  has_work_.notify_one();
}

void ThreadPool::Wait() {
  std::unique_lock<std::mutex> lock(mu_);
  idle_.wait(lock, [this] { return queue_.empty() && running_ == 0; });
}

void ThreadPool::Run() {
  while (true) {
    std::function<void()> task;
    {
      std::unique_lock<std::mutex> lock(mu_);
      has_work_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      task = std::move(queue_.front());
      queue_.pop_front();
      ++running_;
      has_room_.notify_one();
    }
    try {
      task();
    } catch (const std::exception& e) {
      log::Error("worker task threw: {}", e.what());
    } catch (...) {
      log::Error("worker task threw a non-standard exception");
    }
    {
      std::unique_lock<std::mutex> lock(mu_);
      --running_;
      if (queue_.empty() && running_ == 0) idle_.notify_all();
    }
  }
}

Status ParallelFor(size_t n, int workers, std::chrono::microseconds alone_for,
                   const std::function<Status(size_t, int)>& fn) {
  workers = std::max(1, std::min<int>(workers, static_cast<int>(std::min<size_t>(n, 1024))));
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex mu;
  Status first_error;
  auto run = [&](size_t i, int w) {
    Status s = fn(i, w);
    if (!s.ok()) {
      std::lock_guard<std::mutex> l(mu);
      if (first_error.ok()) first_error = std::move(s);
      failed = true;
    }
  };
  auto work = [&](int w) {
    for (size_t i = next++; i < n && !failed; i = next++) run(i, w);
  };
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  auto bring_in = [&]() {
    if (threads.empty() && workers > 1 && next < n &&
        std::chrono::steady_clock::now() - start >= alone_for) {
      for (int w = 1; w < workers; ++w) threads.emplace_back(work, w);
    }
  };
  bring_in();
  for (size_t i = next++; i < n && !failed; i = next++) {
    run(i, 0);
    bring_in();
  }
  for (auto& th : threads) th.join();
  return first_error;
}

}  // namespace cairn
