#include "net/server_context.h"

namespace net {

ServerContext::ServerContext(Router router, ServerOptions options)
    : router_(std::move(router)), options_(std::move(options)), pool_(options_.max_handler_threads) {}

bool ServerContext::begin_request() {
  std::lock_guard lock(mutex_);
  if (stopping_) return false;
  ++in_flight_;
  return true;
}

void ServerContext::end_request() {
  std::lock_guard lock(mutex_);
  if (--in_flight_ == 0) idle_.notify_all();
}

void ServerContext::begin_stop() {
  std::lock_guard lock(mutex_);
  stopping_ = true;
}

void ServerContext::wait_for_requests(std::chrono::milliseconds grace) {
  std::unique_lock lock(mutex_);
  idle_.wait_for(lock, grace, [this] { return in_flight_ == 0; });
}

}  // namespace net
