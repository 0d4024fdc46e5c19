// State that a server's connections share with it (internal to net).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>

#include "net/http.h"
#include "net/worker_pool.h"

namespace net {

class ServerContext {
 public:
  ServerContext(Router router, ServerOptions options);

  const Router& router() const { return router_; }
  const ServerOptions& options() const { return options_; }
  WorkerPool& pool() { return pool_; }
  bool stopping() const { return stopping_; }

  // Counts a request from dispatch until its response is written, so that stop() can wait for it.
  // begin_request() returns false once the server is stopping.
  bool begin_request();
  void end_request();
  void begin_stop();
  // Waits up to `grace` for the requests in flight.
  void wait_for_requests(std::chrono::milliseconds grace);

 private:
  const Router router_;
  const ServerOptions options_;
  WorkerPool pool_;
  std::mutex mutex_;
  std::condition_variable idle_;
  std::size_t in_flight_ = 0;
  std::atomic<bool> stopping_ = false;  // atomic: ResponseWriter::closed() reads it without the lock
};

// Holds one begin_request() for as long as it lives.
class InFlight {
 public:
  explicit InFlight(ServerContext& context) : context_(context) {}
  ~InFlight() { context_.end_request(); }
  InFlight(const InFlight&) = delete;
  InFlight& operator=(const InFlight&) = delete;

 private:
  ServerContext& context_;
};

}  // namespace net
