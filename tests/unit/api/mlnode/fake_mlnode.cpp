#include "fake_mlnode.h"

namespace api::mlnode {

FakeMlNode::FakeMlNode(std::string version) : version_(std::move(version)) {
  inference_ = start("inference");
  poc_ = start("poc");
}

FakeMlNode::~FakeMlNode() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  stopping_cv_.notify_all();
  inference_->stop();
  poc_->stop();
}

std::unique_ptr<net::Server> FakeMlNode::start(const std::string& port) {
  net::Router router;
  for (const char* method : {"GET", "POST"}) {
    router.add_stream(
        method, "/{rest...}",
        [this, port](const net::Request& request, net::ResponseWriter& out) { serve(port, request, out); });
  }
  auto server = std::make_unique<net::Server>(std::move(router), net::ServerOptions{});
  server->start();
  return server;
}

void FakeMlNode::reply(const std::string& route, FakeReply reply) {
  std::lock_guard lock(mu_);
  replies_[route] = std::move(reply);
}

std::vector<RecordedRequest> FakeMlNode::requests() const {
  std::lock_guard lock(mu_);
  return requests_;
}

std::string FakeMlNode::inference_base() const {
  return "http://127.0.0.1:" + std::to_string(inference_->port());
}
std::string FakeMlNode::poc_base() const {
  return "http://127.0.0.1:" + std::to_string(poc_->port());
}

void FakeMlNode::serve(const std::string& port, const net::Request& request, net::ResponseWriter& out) {
  const std::string prefix = "/" + version_;
  FakeReply r{404,
              net::json_error(404, "not_found", "no route " + request.path + " on version " + version_).body};
  {
    std::unique_lock lock(mu_);
    requests_.push_back({port, request.method, request.path, request.body, request.header("content-type")});
    if (request.path.starts_with(prefix + "/")) {
      auto it = replies_.find(request.method + " " + request.path.substr(prefix.size()));
      if (it != replies_.end()) r = it->second;
    }
    stopping_cv_.wait_for(lock, r.delay, [this] { return stopping_; });
  }
  if (r.sse_events.empty()) {
    if (out.begin(r.status, r.content_type)) out.write(r.body);
    return;
  }
  if (!out.begin(r.status, "text/event-stream")) return;
  for (const std::string& data : r.sse_events) {
    if (!out.write(net::sse_event("", data))) return;
  }
}

}  // namespace api::mlnode
