#include "net/worker_pool.h"

#include <algorithm>

namespace net {

WorkerPool::WorkerPool(std::size_t max_threads) : max_threads_(std::max<std::size_t>(max_threads, 1)) {}

WorkerPool::~WorkerPool() {
  join();
}

void WorkerPool::submit(std::function<void()> task) {
  std::unique_lock lock(mutex_);
  if (stopping_) {
    lock.unlock();
    return;  // `task` is destroyed here, releasing whatever it holds
  }
  tasks_.push_back(std::move(task));
  if (tasks_.size() > idle_ && threads_.size() < max_threads_) {
    threads_.emplace_back([this] { run(); });
  } else {
    wake_.notify_one();
  }
}

void WorkerPool::join() {
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    threads.swap(threads_);
  }
  wake_.notify_all();
  for (std::thread& thread : threads) thread.join();
}

void WorkerPool::run() {
  std::unique_lock lock(mutex_);
  while (true) {
    ++idle_;
    wake_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
    --idle_;
    if (tasks_.empty()) return;
    std::function<void()> task = std::move(tasks_.front());
    tasks_.pop_front();
    lock.unlock();
    task();
    task = nullptr;  // release captures before taking the lock again
    lock.lock();
  }
}

}  // namespace net
