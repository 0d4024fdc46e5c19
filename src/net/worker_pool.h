// Threads for handlers that may block (internal to net). Unlike asio::thread_pool it grows on demand up to a
// bound, because streaming handlers hold a thread for minutes and must not starve ordinary requests.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace net {

class WorkerPool {
 public:
  explicit WorkerPool(std::size_t max_threads);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues a task; tasks submitted after join() has begun are destroyed without running.
  void submit(std::function<void()> task);
  // Runs the queued tasks to completion and joins all threads.
  void join();

 private:
  void run();

  const std::size_t max_threads_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> tasks_;
  std::vector<std::thread> threads_;
  std::size_t idle_ = 0;
  bool stopping_ = false;
};

}  // namespace net
