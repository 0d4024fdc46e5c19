#include "node/rpc/rpc_server.h"

#include <spdlog/spdlog.h>

#include "chain/types/codes.h"
#include "common/bytes.h"
#include "common/json_text.h"
#include "node/rpc/tx_body.h"

namespace node::rpc {

namespace {
using nlohmann::json;

// An app query's answer; a 200 carries the height of the state it comes from in "x-block-height".
net::Response from_query(const common::Result<json>& r, uint64_t height) {
  if (r) {
    auto response = net::json_response(200, common::json_dump(*r));
    response.headers["x-block-height"] = std::to_string(height);
    return response;
  }
  uint32_t code = r.error().code;
  if (code == chain::codes::kInvalidHeight) return net::json_error(400, "invalid_height", r.error().message);
  if (code == chain::codes::kInternal) return net::json_error(500, "internal", r.error().message);
  int status = code == chain::codes::kNotFound || code == chain::codes::kUnknownRequest ? 404 : 400;
  return net::json_error(status, status == 404 ? "not_found" : "invalid_request", r.error().message);
}

std::optional<uint64_t> parse_height(const std::string& s) {
  if (s.empty() || s.size() > 19 || s.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  return std::stoull(s);
}
}  // namespace

RpcServer::RpcServer(ChainNode& chain, SubmitFn submit, RpcOptions options)
    : chain_(chain), submit_(std::move(submit)), options_(std::move(options)) {}

RpcServer::~RpcServer() {
  stop();
}

net::Router RpcServer::routes() {
  net::Router r;
  r.add("GET", "/status", [this](const net::Request&) {
    json s = chain_.status();
    s["mode"] = options_.mode;
    s["event_subscribers"] = subscribers_.load();
    return net::json_response(200, common::json_dump(s));
  });
  r.add("GET", "/blocks/latest", [this](const net::Request&) {
    auto b = chain_.block(chain_.height());
    if (!b) return net::json_error(404, "not_found", "no block committed yet");
    return net::json_response(200, common::json_dump(block_json(*b)));
  });
  r.add("GET", "/blocks/{height}", [this](const net::Request& req) {
    auto h = parse_height(req.path_params.at("height"));
    if (!h) return net::json_error(400, "invalid_height", "height must be a non-negative integer");
    auto b = chain_.block(*h);
    if (!b) {
      return net::json_error(404, "not_found",
                             "no block at height " + std::to_string(*h) + " (latest is " +
                                 std::to_string(chain_.height()) + ")");
    }
    return net::json_response(200, common::json_dump(block_json(*b)));
  });
  r.add("POST", "/txs", [this](const net::Request& req) {
    auto bytes = tx_bytes_from_body(req.body);
    if (!bytes) return net::json_error(400, bytes.error().code, bytes.error().message);
    SubmitResult res = submit_(*bytes);
    return net::json_response(
        200, common::json_dump(json{{"code", res.code},
                                    {"codespace", std::string(chain::codes::codespace_of(res.code))},
                                    {"log", res.log},
                                    {"txhash", res.hash}}));
  });
  r.add("GET", "/txs/{hash}", [this](const net::Request& req) {
    const std::string& hash = req.path_params.at("hash");
    if (hash.size() != 64 || !common::from_hex(hash)) {
      return net::json_error(400, "invalid_hash", "tx hash must be 64 hex characters");
    }
    auto found = chain_.tx(hash);
    if (!found) return net::json_error(404, "not_found", "tx " + hash + " is not in a committed block (yet)");
    return net::json_response(200, common::json_dump(tx_result_json(found->block, found->index)));
  });
  r.add_stream("GET", "/events/blocks", [this](const net::Request& req, net::ResponseWriter& out) {
    uint64_t next = chain_.height() + 1;
    if (auto it = req.query.find("from"); it != req.query.end()) {
      auto h = parse_height(it->second);
      if (!h || *h == 0) {
        out.begin(400, "application/json");
        out.write(R"({"error":{"code":"invalid_from","message":"from must be a positive height"}})");
        return;
      }
      next = *h;
    }
    // A bounded number of streams, so they never take every handler thread (issue 14 fault 7).
    struct Slot {
      std::atomic<unsigned>& count;
      bool taken = false;
      Slot(std::atomic<unsigned>& c, unsigned max) : count(c) {
        unsigned now = c.load();
        while (now < max && !(taken = c.compare_exchange_weak(now, now + 1))) {
        }
      }
      ~Slot() {
        if (taken) --count;
      }
    } slot(subscribers_, options_.max_event_subscribers);
    if (!slot.taken) {
      if (out.begin(503, "application/json", {{"retry-after", "1"}})) {
        out.write(common::json_dump(
            {{"error",
              {{"code", "too_many_subscribers"},
               {"message",
                "this node already serves " + std::to_string(options_.max_event_subscribers) +
                    " /events/blocks streams (inferenced start --max-event-subscribers); retry later"}}}}));
      }
      return;
    }
    if (!out.begin(200, "text/event-stream", {{"cache-control", "no-cache"}})) return;
    auto last_write = std::chrono::steady_clock::now();
    // Short waits, so a client that left is noticed within disconnect_poll even when no block comes, and the
    // thread is released; keepalive comments keep a quiet stream alive for the client's read timeout.
    while (!out.closed()) {
      uint64_t height = chain_.wait_for_height_above(next - 1, options_.disconnect_poll);
      if (out.closed()) return;
      auto now = std::chrono::steady_clock::now();
      if (height < next) {
        if (now - last_write >= options_.keepalive_interval) {
          if (!out.write(": keepalive\n\n")) return;
          last_write = now;
        }
        continue;
      }
      for (; next <= height; ++next) {
        auto b = chain_.block(next);
        if (!b) continue;  // pruned or not recorded
        if (!out.write(net::sse_event("block", common::json_dump(block_json(*b))))) return;
      }
      last_write = now;
    }
  });
  // Everything else is an app query: /bank/balances/{address}, /inference/..., /gov/...
  r.add("GET", "/{rest...}", [this](const net::Request& req) {
    uint64_t height = 0;
    auto answer = chain_.query(req.path, req.query, &height);
    return from_query(answer, height);
  });
  return r;
}

void RpcServer::start() {
  net::ServerOptions opts;
  opts.address = options_.address;
  opts.port = options_.port;
  opts.threads = options_.threads;
  // Streams hold handler threads; ordinary requests keep at least 32 of their own.
  opts.max_handler_threads = options_.max_event_subscribers + 32;
  opts.name = "rpc";
  server_ = std::make_unique<net::Server>(routes(), opts);
  server_->start();
}

void RpcServer::stop() {
  if (server_) server_->stop(std::chrono::milliseconds(2000));
}

uint16_t RpcServer::port() const {
  return server_ ? server_->port() : 0;
}

}  // namespace node::rpc
