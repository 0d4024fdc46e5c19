#include "node/abci/comet_node.h"

#include <cstdint>

#include <nlohmann/json.hpp>

#include "chain/types/codes.h"
#include "common/json_text.h"

namespace node::abci {

namespace {
// Cosmos SDK's code for an internal error; used when CometBFT cannot be reached or answers nonsense.
constexpr uint32_t kCodeInternal = 1;
}  // namespace

SubmitResult submit_result_from_broadcast(const net::ClientResult& answer, const std::string& hash,
                                          const std::string& comet_rpc) {
  SubmitResult out;
  out.hash = hash;
  if (!answer.ok()) {
    out.code = kCodeInternal;
    out.log = "CometBFT RPC at " + comet_rpc + " did not answer broadcast_tx_sync: " + answer.error->message +
              "; is cometbft running?";
    return out;
  }
  auto body = nlohmann::json::parse(answer.response->body, nullptr, false);
  // Fields of the answer, read without trusting their types (a wrong type must not throw).
  auto text = [](const nlohmann::json& obj, const char* key, const std::string& fallback) {
    auto it = obj.find(key);
    return it != obj.end() && it->is_string() ? it->get<std::string>() : fallback;
  };
  if (body.is_object() && body.contains("result") && body["result"].is_object()) {
    const auto& r = body["result"];
    auto code = r.find("code");
    if (code != r.end() && !(code->is_number_unsigned() && code->get<uint64_t>() <= UINT32_MAX)) {
      out.code = kCodeInternal;
      out.log = "CometBFT RPC at " + comet_rpc +
                " answered broadcast_tx_sync with a code that is not a uint32: " +
                common::printable(code->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), 100);
      return out;
    }
    out.code = code == r.end() ? 0u : code->get<uint32_t>();
    out.log = text(r, "log", "");
    // A refusal always says something (found by tests/fuzz/json_body_fuzz.cpp: code 1 with an empty log).
    if (out.code != 0 && out.log.empty()) {
      out.log = "CometBFT refused the tx with code " + std::to_string(out.code) + " and no log";
    }
    return out;
  }
  if (body.is_object() && body.contains("error") && body["error"].is_object()) {
    const auto& e = body["error"];
    std::string data = text(e, "data", text(e, "message", "unknown error"));
    if (data.find("already exists in cache") != std::string::npos) {
      out.code = chain::codes::kTxInMempoolCache;
      out.log = "tx already in mempool";
    } else if (data.find("mempool is full") != std::string::npos) {
      out.code = chain::codes::kMempoolFull;
      out.log = data + "; retry after the next block";
    } else if (data.find("too large") != std::string::npos) {
      out.code = chain::codes::kTxTooLarge;
      out.log = data;
    } else {
      out.code = kCodeInternal;
      out.log = "CometBFT refused the tx: " + data;
    }
    return out;
  }
  out.code = kCodeInternal;
  out.log = "CometBFT RPC at " + comet_rpc + " answered broadcast_tx_sync with HTTP " +
            std::to_string(answer.response->status) + ": " + common::printable(answer.response->body, 200);
  return out;
}

}  // namespace node::abci
