#include "api/chain/chain_client.h"

#include <cctype>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/bytes.h"
#include "net/http.h"

namespace api::chain {
namespace {

// The node's {"error": {"message": ...}} or, failing that, the raw body.
std::string error_message(const std::string& body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("error") && j["error"].is_object() && j["error"].contains("message") &&
      j["error"]["message"].is_string()) {
    return j["error"]["message"].get<std::string>();
  }
  return body.empty() ? "(empty body)" : body;
}

common::Result<std::string> to_body(const net::ClientResult& r, const std::string& what) {
  if (!r.ok()) {
    return common::make_error(r.error->timed_out ? kTimeoutError : kTransportError,
                              what + ": " + r.error->message);
  }
  if (r.response->status / 100 != 2) {
    return common::make_error(
        static_cast<uint32_t>(r.response->status),
        what + ": HTTP " + std::to_string(r.response->status) + ": " + error_message(r.response->body));
  }
  return r.response->body;
}

// Parses a 2xx body; a malformed answer names the request.
template <class Parse>
auto parsed(const common::Result<std::string>& body, const std::string& what, Parse parse)
    -> decltype(parse(std::string())) {
  if (!body) return body.error();
  auto r = parse(*body);
  if (!r) return common::make_error(r.error().code, what + ": " + r.error().message);
  return r;
}

// Percent-encodes a path segment; '/' is kept because model ids contain it and the routes capture the rest.
std::string encode_path(const std::string& text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '/') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace

ChainClient::ChainClient(std::string base_url, ChainClientOptions options)
    : base_url_(std::move(base_url)), options_(options) {
  while (!base_url_.empty() && base_url_.back() == '/') base_url_.pop_back();
}

common::Result<std::string> ChainClient::get(const std::string& path) const {
  std::string what = "GET " + path;
  for (unsigned attempt = 1;; ++attempt) {
    net::ClientResult r = net::Client::get(base_url_ + path, options_.timeout);
    bool retry = !r.ok() && !r.error->timed_out && attempt < options_.get_attempts;
    if (!retry) return to_body(r, what);
    std::this_thread::sleep_for(options_.retry_delay);
  }
}

common::Result<ChainStatus> ChainClient::status() const {
  return parsed(get("/status"), "GET /status", parse_status);
}

common::Result<Block> ChainClient::block(uint64_t height) const {
  std::string path = "/blocks/" + std::to_string(height);
  return parsed(get(path), "GET " + path, parse_block);
}

common::Result<EpochInfo> ChainClient::epoch() const {
  return parsed(get("/inference/epoch"), "GET /inference/epoch", parse_epoch);
}

common::Result<EpochGroup> ChainClient::epoch_group(GroupEpoch which, const std::string& model_id) const {
  std::string path =
      which == GroupEpoch::kCurrent ? "/inference/epoch-groups/current" : "/inference/epoch-groups/upcoming";
  if (!model_id.empty()) path += "/" + encode_path(model_id);
  return parsed(get(path), "GET " + path, parse_epoch_group);
}

common::Result<EpochGroup> ChainClient::epoch_group_at(uint64_t epoch_index,
                                                       const std::string& model_id) const {
  std::string path = "/inference/epoch-groups/" + std::to_string(epoch_index);
  if (!model_id.empty()) path += "/" + encode_path(model_id);
  return parsed(get(path), "GET " + path, parse_epoch_group);
}

common::Result<std::vector<PocBatch>> ChainClient::poc_batches(uint64_t epoch_index) const {
  std::string path = "/inference/poc-batches/" + std::to_string(epoch_index);
  return parsed(get(path), "GET " + path, parse_poc_batches);
}

common::Result<std::vector<GovernanceModel>> ChainClient::governance_models() const {
  return parsed(get("/inference/governance/models"), "GET /inference/governance/models",
                parse_governance_models);
}

common::Result<MLNodeVersion> ChainClient::mlnode_version() const {
  return parsed(get("/inference/mlnode-version"), "GET /inference/mlnode-version", parse_mlnode_version);
}

common::Result<Participant> ChainClient::participant(const std::string& address) const {
  std::string path = "/inference/participants/" + encode_path(address);
  return parsed(get(path), "GET " + path, parse_participant);
}

common::Result<std::vector<HardwareNode>> ChainClient::hardware_nodes(const std::string& participant) const {
  std::string path = "/inference/hardware-nodes/" + encode_path(participant);
  return parsed(get(path), "GET " + path, parse_hardware_nodes);
}

common::Result<Account> ChainClient::account(const std::string& address) const {
  std::string path = "/auth/accounts/" + encode_path(address);
  return parsed(get(path), "GET " + path, parse_account);
}

common::Result<uint64_t> ChainClient::balance(const std::string& address, const std::string& denom) const {
  std::string path = "/bank/balances/" + encode_path(address);
  return parsed(get(path), "GET " + path,
                [&denom](const std::string& body) { return parse_balance(body, denom); });
}

common::Result<TxResult> ChainClient::tx(const std::string& hash_hex) const {
  std::string path = "/txs/" + encode_path(hash_hex);
  return parsed(get(path), "GET " + path, parse_tx_result);
}

common::Result<BroadcastResult> ChainClient::broadcast(const std::string& tx_bytes) const {
  std::string body = nlohmann::json{{"tx", common::to_base64(tx_bytes)}}.dump();
  auto answer = to_body(net::Client::post_json(base_url_ + "/txs", body, options_.timeout), "POST /txs");
  return parsed(answer, "POST /txs", parse_broadcast);
}

}  // namespace api::chain
