// Requester-signed requests at the transfer agent (issue 12 item 1; docs/requester-signature.md).
// A request with the X-Requester-Address / -Timestamp / -Signature headers is paid by that account (the
// requester), which signed (common/requester_signature.h) the chain id, this transfer agent's address, the
// timestamp and SHA-256 of the body. Before anything goes on chain the transfer agent checks:
//   headers well-formed (400 otherwise) → |now - timestamp| <= kMaxRequestSkewMs (401 "stale_timestamp") →
//   the requester's on-chain public key verifies the signature (401 "invalid_signature") → the same signed
//   request was not seen before (409 "replayed_request"; RequestReplayCache). The chain checks the same again
//   in MsgStartInference (block time, its own replay index), so a dapi restart cannot replay either.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>

#include "api/inference/chat_request.h"
#include "net/http.h"

namespace api::inference {

struct SignedRequester {
  std::string address;        // bech32 requester account (it pays)
  uint64_t timestamp_ms = 0;  // the requester's unix ms
  std::string signature;      // raw 64 bytes
  std::string body_hash;      // SHA-256 of the request body, 32 bytes
};

// True iff the request carries any X-Requester-* header (then it is a signed request, never an API-key one).
bool has_requester_headers(const net::Request& req);
// The signed request's fields; on malformed or missing headers `err` is a 400 naming the header.
std::optional<SignedRequester> parse_requester_headers(const net::Request& req, RequestError& err);
// Timestamp and signature checks; `public_key` is the requester's on-chain key (empty: never signed a tx).
// Returns a RequestError with status 0 when the request may proceed, else 401 with the reason.
RequestError check_signed_request(const SignedRequester& r, const std::string& public_key,
                                  const std::string& chain_id, const std::string& transfer_agent,
                                  int64_t now_ms);

// Signed requests seen in the last kMaxRequestSkewMs (older ones can no longer pass the timestamp check and
// are forgotten), at most `capacity` of them. Thread-safe.
class RequestReplayCache {
 public:
  explicit RequestReplayCache(std::size_t capacity = 100'000) : capacity_(capacity) {}
  // Remembers the request; false if it was already seen (a replay) or the cache is full of live entries.
  bool remember(const SignedRequester& r, int64_t now_ms);
  std::size_t size() const;

 private:
  using Key = std::tuple<uint64_t, std::string, std::string>;  // timestamp, requester, body hash
  mutable std::mutex mu_;
  std::map<Key, bool> seen_;  // ordered by timestamp: the oldest are evicted first
  std::size_t capacity_;
};

}  // namespace api::inference
