// A requester's signature of one inference request (issue 12 item 1; docs/requester-signature.md).
// A funded account that is not a participant asks a transfer agent (any participant's dapi) to run a
// request and pay for it from the account. It signs, with its secp256k1 account key, only what it knows
// when it sends the request:
//
//   sign_bytes = "inference/request/v1" 0x00 chain_id 0x00 transfer_agent 0x00 be64(timestamp_ms) body_hash
//   signature  = secp256k1 compact (r || s, low-S, RFC 6979) over SHA-256(sign_bytes)
//
// transfer_agent is the dapi's participant address in bech32 exactly as it publishes it ("gonka1...");
// timestamp_ms is the requester's unix time in milliseconds (8 bytes big-endian); body_hash is the
// 32-byte SHA-256 of the HTTP body exactly as sent. The executor is not covered: the transfer agent picks
// it after the request arrives. The chain checks the signature in MsgStartInference (request_hash,
// request_timestamp_ms, requester_signature) against the requester's on-chain public key, the block time
// (|block time - timestamp| <= kMaxRequestSkewMs) and a replay index; dapi checks the same before it
// escrows anything. No chain dependency: dapi and the CLI link this.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/secp256k1.h"

namespace common::requester_signature {

inline constexpr std::string_view kDomain = "inference/request/v1";
// The largest distance between a request's timestamp and the time that judges it (the block time on
// chain, the transfer agent's clock in dapi): older is stale, newer is from the future.
inline constexpr uint64_t kMaxRequestSkewMs = 5 * 60 * 1000;

// HTTP headers carrying a signed request (names lower-case, as the HTTP layer stores them).
inline constexpr std::string_view kHeaderRequester = "x-requester-address";    // bech32 account
inline constexpr std::string_view kHeaderTimestamp = "x-requester-timestamp";  // decimal unix ms
inline constexpr std::string_view kHeaderSignature = "x-requester-signature";  // 128 hex digits

// The exact bytes described above. body_hash must be 32 bytes; chain_id and transfer_agent without NUL.
std::string sign_bytes(std::string_view chain_id, std::string_view transfer_agent_bech32,
                       uint64_t timestamp_ms, std::string_view body_hash);
// SHA-256(sign_bytes(...)): the 32-byte digest the key signs.
std::string digest(std::string_view chain_id, std::string_view transfer_agent_bech32, uint64_t timestamp_ms,
                   std::string_view body_hash);
// 64-byte signature of digest(...) by `key`.
std::string sign(const secp256k1::PrivateKey& key, std::string_view chain_id,
                 std::string_view transfer_agent_bech32, uint64_t timestamp_ms, std::string_view body_hash);
// True iff `signature` (64 bytes) by `public_key33` verifies over digest(...) and body_hash is 32 bytes.
bool verify(std::string_view public_key33, std::string_view chain_id, std::string_view transfer_agent_bech32,
            uint64_t timestamp_ms, std::string_view body_hash, std::string_view signature);
// True iff timestamp_ms lies within kMaxRequestSkewMs of now_ms (either side).
bool timestamp_fresh(uint64_t timestamp_ms, int64_t now_ms);

}  // namespace common::requester_signature
