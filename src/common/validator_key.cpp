#include "common/validator_key.h"

#include <nlohmann/json.hpp>

#include "common/bytes.h"
#include "common/file_util.h"
#include "common/hash.h"

namespace common {

Result<ed25519::KeyPair> read_validator_key(const std::string& path) {
  auto text = read_file(path);
  if (!text) return make_error(1, "validator key file " + path + " does not exist");
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (!j.is_object() || !j.contains("priv_key") || !j["priv_key"].is_string()) {
    return make_error(1, "validator key file " + path + " must be JSON with a base64 \"priv_key\"");
  }
  auto raw = from_base64(j["priv_key"].get<std::string>());
  if (!raw || raw->size() != 64) {
    return make_error(
        1, "validator key file " + path + ": priv_key must be base64 of 64 bytes (seed || public key)");
  }
  auto key = ed25519::from_seed(std::string_view(*raw).substr(0, 32));
  if (!key || key->public_key != raw->substr(32)) {
    return make_error(
        1, "validator key file " + path + ": priv_key does not hold a consistent ed25519 key pair");
  }
  return *key;
}

void write_validator_key(const std::string& path, const ed25519::KeyPair& key) {
  nlohmann::json j{{"type", "ed25519"},
                   {"address", to_hex(sha256(key.public_key).substr(0, 20))},
                   {"pub_key", to_base64(key.public_key)},
                   {"priv_key", to_base64(key.private_seed + key.public_key)}};
  write_file_atomic(path, j.dump(2) + "\n", 0600);
}

}  // namespace common
