#include "fake_chain_rpc.h"

#include <thread>

#include <nlohmann/json.hpp>

namespace api::chain::testing {

std::string block_json(uint64_t height) {
  nlohmann::json tx = {{"hash", "AB" + std::to_string(height)},
                       {"height", height},
                       {"index", 0},
                       {"code", 0},
                       {"log", ""},
                       {"gas_used", 0},
                       {"events", nlohmann::json::array()}};
  nlohmann::json event = {{"type", "block_marker"},
                          {"attributes", {{{"key", "h"}, {"value", std::to_string(height)}}}}};
  return nlohmann::json{{"chain_id", "t"},
                        {"height", height},
                        {"time_unix_ms", 1000 * height},
                        {"hash", "H" + std::to_string(height)},
                        {"num_txs", 1},
                        {"txs", {tx}},
                        {"events", {event}}}
      .dump();
}

FakeChainRpc::FakeChainRpc() : server_(routes(), net::ServerOptions{}) {
  server_.start();
}

FakeChainRpc::~FakeChainRpc() {
  server_.stop(std::chrono::milliseconds(500));
}

std::string FakeChainRpc::url() const {
  return "http://127.0.0.1:" + std::to_string(server_.port());
}

void FakeChainRpc::set(const std::string& path, int status, const std::string& body) {
  std::lock_guard lock(mu_);
  answers_[path] = {status, body};
}

void FakeChainRpc::on_broadcast(std::function<net::Response(const net::Request&)> handler) {
  std::lock_guard lock(mu_);
  broadcast_ = std::move(handler);
}

std::vector<uint64_t> FakeChainRpc::stream_from_values() const {
  std::lock_guard lock(mu_);
  return stream_from_;
}

net::Router FakeChainRpc::routes() {
  net::Router r;
  r.add("POST", "/txs", [this](const net::Request& req) {
    std::function<net::Response(const net::Request&)> handler;
    {
      std::lock_guard lock(mu_);
      handler = broadcast_;
    }
    return handler ? handler(req) : net::json_error(500, "internal", "no broadcast handler");
  });
  r.add_stream("GET", "/events/blocks", [this](const net::Request& req, net::ResponseWriter& out) {
    uint64_t from = std::stoull(req.query.at("from"));
    {
      std::lock_guard lock(mu_);
      stream_from_.push_back(from);
    }
    if (!out.begin(200, "text/event-stream")) return;
    uint64_t start = from > replay_ ? from - replay_ : 1;
    int sent = 0;
    for (uint64_t h = start; h <= tip_; ++h) {
      if (drop_after_ > 0 && sent == drop_after_) return;
      if (!out.write(net::sse_event("block", block_json(h)))) return;
      ++sent;
    }
    while (!out.closed()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  });
  r.add("GET", "/{rest...}", [this](const net::Request& req) {
    std::this_thread::sleep_for(delay_.load());
    std::lock_guard lock(mu_);
    auto it = answers_.find(req.path);
    if (it == answers_.end()) return net::json_error(404, "not_found", "nothing at " + req.path);
    return net::json_response(it->second.first, it->second.second);
  });
  return r;
}

}  // namespace api::chain::testing
