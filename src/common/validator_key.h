// The validator (consensus) key file, config/validator_key.json of an inferenced home (CometBFT's
// priv_validator_key shape, mode 0600):
//   {"type": "ed25519", "address": hex(SHA-256(pub)[:20]), "pub_key": base64(32 bytes),
//    "priv_key": base64(seed 32 bytes || pub 32 bytes)}
// Read by dapi to register its participant with the validator key; the private half is never logged.
#pragma once

#include <string>

#include "common/ed25519.h"
#include "common/result.h"

namespace common {

// Error code 1 with a message naming the file and what is wrong (missing, not JSON, bad key).
Result<ed25519::KeyPair> read_validator_key(const std::string& path);
// Writes atomically with mode 0600; throws std::runtime_error naming the path on failure.
void write_validator_key(const std::string& path, const ed25519::KeyPair& key);

}  // namespace common
