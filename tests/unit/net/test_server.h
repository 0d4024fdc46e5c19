// A server on 127.0.0.1 and a free port, for tests.
#pragma once

#include <string>

#include "net/http.h"

namespace net {

class TestServer {
 public:
  explicit TestServer(Router router, ServerOptions options = {})
      : server_(std::move(router), std::move(options)) {
    server_.start();
  }
  std::string url(const std::string& target) const {
    return "http://127.0.0.1:" + std::to_string(server_.port()) + target;
  }
  Server& server() { return server_; }

 private:
  Server server_;
};

}  // namespace net
