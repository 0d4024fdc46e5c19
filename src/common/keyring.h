// File keyring: named secp256k1 account keys in one JSON file with mode 0600, shared by inferenced
// (<home>/keyring/keys.json) and dapi (same format), so a key made by one is usable by the other. Private
// keys are only returned to signing code or to the explicit `keys export` command; they are never logged.
// File shape: {"keys": [{"name", "address" (bech32), "private_key" (hex, 32 bytes)}]}.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/secp256k1.h"

namespace common {

struct KeyInfo {
  std::string name;
  std::string address;     // bech32
  std::string public_key;  // 33 bytes compressed
};

class Keyring {
 public:
  Keyring(std::string path, std::string hrp);

  // Creates a new random key; throws std::runtime_error if the name exists or is invalid.
  KeyInfo add(const std::string& name);
  // Imports a private key (raw 32 bytes); same errors as add.
  KeyInfo import(const std::string& name, const common::secp256k1::PrivateKey& key);
  std::vector<KeyInfo> list() const;
  std::optional<KeyInfo> find(const std::string& name_or_address) const;
  // Throws std::runtime_error "key NAME not found in PATH" when missing.
  common::secp256k1::PrivateKey private_key(const std::string& name_or_address) const;

 private:
  struct Entry {
    KeyInfo info;
    std::string private_key;
  };
  std::vector<Entry> load() const;
  void save(const std::vector<Entry>& entries) const;
  KeyInfo make_info(const std::string& name, const common::secp256k1::PrivateKey& key) const;

  std::string path_;
  std::string hrp_;
};

}  // namespace common
