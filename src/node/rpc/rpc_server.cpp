#include "node/rpc/rpc_server.h"

#include <spdlog/spdlog.h>

#include "chain/types/codes.h"
#include "common/bytes.h"
#include "common/json_text.h"

namespace node::rpc {

namespace {
using nlohmann::json;

net::Response from_query(const common::Result<json>& r) {
  if (r) return net::json_response(200, common::json_dump(*r));
  uint32_t code = r.error().code;
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
    json body = json::parse(req.body, nullptr, false);
    if (body.is_discarded() || !body.is_object()) {
      return net::json_error(400, "invalid_json",
                             "body must be a JSON object {\"tx\": \"<base64 signed tx>\"}");
    }
    if (!body.contains("tx") || !body["tx"].is_string()) {
      return net::json_error(400, "missing_tx", "field \"tx\" (base64 of the signed tx bytes) is required");
    }
    auto bytes = common::from_base64(body["tx"].get<std::string>());
    if (!bytes) return net::json_error(400, "invalid_base64", "field \"tx\" is not valid base64");
    SubmitResult res = submit_(*bytes);
    return net::json_response(
        200, common::json_dump(json{{"code", res.code}, {"log", res.log}, {"txhash", res.hash}}));
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
    if (!out.begin(200, "text/event-stream", {{"cache-control", "no-cache"}})) return;
    while (!out.closed()) {
      uint64_t height = chain_.wait_for_height_above(next - 1, std::chrono::seconds(10));
      if (height < next) {
        if (!out.write(": keepalive\n\n")) return;
        continue;
      }
      for (; next <= height; ++next) {
        auto b = chain_.block(next);
        if (!b) continue;  // pruned or not recorded
        if (!out.write(net::sse_event("block", common::json_dump(block_json(*b))))) return;
      }
    }
  });
  // Everything else is an app query: /bank/balances/{address}, /inference/..., /gov/...
  r.add("GET", "/{rest...}",
        [this](const net::Request& req) { return from_query(chain_.query(req.path, req.query)); });
  return r;
}

void RpcServer::start() {
  net::ServerOptions opts;
  opts.address = options_.address;
  opts.port = options_.port;
  opts.threads = options_.threads;
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
