// Test double of an ML node: both ports on 127.0.0.1 with free ports, scripted replies per route, and a
// record of every request. Paths must carry the node's version prefix, as behind the upgrade proxy; any other
// path is a 404.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "net/http.h"

namespace api::mlnode {

struct FakeReply {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::string> sse_events{};  // when set: a text/event-stream of these data lines
  std::chrono::milliseconds delay{0};     // wait before answering (cut short when the fake stops)
};

struct RecordedRequest {
  std::string port;  // "poc" or "inference"
  std::string method;
  std::string path;  // as received, version prefix included
  std::string body;
  std::string content_type;
};

class FakeMlNode {
 public:
  explicit FakeMlNode(std::string version = "v3.0.8");
  ~FakeMlNode();

  // route: "GET /api/v1/state" (without the version prefix).
  void reply(const std::string& route, FakeReply reply);
  std::vector<RecordedRequest> requests() const;

  std::string inference_base() const;
  std::string poc_base() const;

 private:
  void serve(const std::string& port, const net::Request& request, net::ResponseWriter& out);
  std::unique_ptr<net::Server> start(const std::string& port);

  std::string version_;
  mutable std::mutex mu_;
  std::condition_variable stopping_cv_;
  bool stopping_ = false;
  std::map<std::string, FakeReply> replies_;
  std::vector<RecordedRequest> requests_;
  std::unique_ptr<net::Server> inference_;
  std::unique_ptr<net::Server> poc_;
};

}  // namespace api::mlnode
