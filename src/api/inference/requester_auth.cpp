#include "api/inference/requester_auth.h"

#include <charconv>

#include "common/bytes.h"
#include "common/hash.h"
#include "common/requester_signature.h"

namespace api::inference {

namespace rs = common::requester_signature;

bool has_requester_headers(const net::Request& req) {
  return !req.header(std::string(rs::kHeaderRequester)).empty() ||
         !req.header(std::string(rs::kHeaderTimestamp)).empty() ||
         !req.header(std::string(rs::kHeaderSignature)).empty();
}

std::optional<SignedRequester> parse_requester_headers(const net::Request& req, RequestError& err) {
  auto fail = [&](std::string message) {
    err = RequestError{400, "invalid_requester_headers", std::move(message)};
    return std::nullopt;
  };
  SignedRequester r;
  r.address = req.header(std::string(rs::kHeaderRequester));
  if (r.address.empty() || r.address.size() > 128) {
    return fail("X-Requester-Address must be the requester's bech32 account address");
  }
  std::string ts = req.header(std::string(rs::kHeaderTimestamp));
  auto [end, ec] = std::from_chars(ts.data(), ts.data() + ts.size(), r.timestamp_ms);
  if (ts.empty() || ts.size() > 20 || ec != std::errc() || end != ts.data() + ts.size()) {
    return fail("X-Requester-Timestamp must be the unix time in milliseconds (decimal)");
  }
  auto sig = common::from_hex(req.header(std::string(rs::kHeaderSignature)));
  if (!sig || sig->size() != 64) {
    return fail("X-Requester-Signature must be the 64-byte secp256k1 signature in hex (128 digits)");
  }
  r.signature = std::move(*sig);
  r.body_hash = common::sha256(req.body);
  return r;
}

RequestError check_signed_request(const SignedRequester& r, const std::string& public_key,
                                  const std::string& chain_id, const std::string& transfer_agent,
                                  int64_t now_ms) {
  if (!rs::timestamp_fresh(r.timestamp_ms, now_ms)) {
    return {401, "stale_timestamp",
            "X-Requester-Timestamp " + std::to_string(r.timestamp_ms) + " is more than " +
                std::to_string(rs::kMaxRequestSkewMs) + " ms from this transfer agent's time " +
                std::to_string(now_ms) + " (stale or in the future); sign the request again"};
  }
  if (public_key.empty()) {
    return {
        401, "invalid_signature",
        "the requester " + r.address + " has no public key on chain yet (it must have signed a transaction)"};
  }
  if (!rs::verify(public_key, chain_id, transfer_agent, r.timestamp_ms, r.body_hash, r.signature)) {
    return {401, "invalid_signature",
            "X-Requester-Signature does not verify for " + r.address + " over (chain id " + chain_id +
                ", transfer agent " + transfer_agent + ", timestamp, SHA-256 of the body)"};
  }
  return {0, "", ""};
}

bool RequestReplayCache::remember(const SignedRequester& r, int64_t now_ms) {
  std::lock_guard lock(mu_);
  uint64_t skew = rs::kMaxRequestSkewMs;
  uint64_t floor =
      now_ms > 0 && static_cast<uint64_t>(now_ms) > skew ? static_cast<uint64_t>(now_ms) - skew : 0;
  while (!seen_.empty() && std::get<0>(seen_.begin()->first) < floor) seen_.erase(seen_.begin());
  Key key{r.timestamp_ms, r.address, r.body_hash};
  if (seen_.count(key)) return false;
  if (seen_.size() >= capacity_) return false;
  seen_.emplace(std::move(key), true);
  return true;
}

std::size_t RequestReplayCache::size() const {
  std::lock_guard lock(mu_);
  return seen_.size();
}

}  // namespace api::inference
