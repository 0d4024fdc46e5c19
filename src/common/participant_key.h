// Proof that a participant holds the validator (consensus) key it registers (issue 13, fault 5;
// docs/transactions.md "Validator key proof"). MsgSubmitNewParticipant carries `validator_key_signature` =
// ed25519 signature, by the claimed 32-byte validator key, over these sign bytes:
//
//   "inference/participant-validator-key" 0x00 chain_id 0x00 creator
//
// where `creator` is the participant's bech32 account address exactly as in the message (e.g. "gonka1...").
// The bytes are signed as they are (ed25519 hashes internally; no extra pre-hash). Binding the chain id and
// the address means a signature shown on one chain or for one account cannot register the key for anyone
// else. No chain dependency: the API node (dapi) links this to register its participant.
#pragma once

#include <string>
#include <string_view>

#include "common/ed25519.h"

namespace common::participant_key {

inline constexpr std::string_view kDomain = "inference/participant-validator-key";

// The exact bytes the validator key signs. chain_id and creator must not contain NUL (the chain rejects such
// addresses and chain ids anyway); they are used as given.
std::string sign_bytes(std::string_view chain_id, std::string_view creator_bech32);
// 64-byte ed25519 signature of sign_bytes(chain_id, creator_bech32) by `validator_key`.
std::string sign(const ed25519::KeyPair& validator_key, std::string_view chain_id,
                 std::string_view creator_bech32);
// True iff `signature` (64 bytes) is `public_key` (32 bytes)'s signature of sign_bytes(chain_id,
// creator_bech32).
bool verify(std::string_view public_key, std::string_view chain_id, std::string_view creator_bech32,
            std::string_view signature);

}  // namespace common::participant_key
