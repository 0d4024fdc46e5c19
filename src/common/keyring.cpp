#include "common/keyring.h"

#include <sys/stat.h>

#include <filesystem>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "common/bech32.h"
#include "common/bytes.h"
#include "common/file_util.h"
#include "common/hash.h"

namespace common {

Keyring::Keyring(std::string path, std::string hrp) : path_(std::move(path)), hrp_(std::move(hrp)) {}

KeyInfo Keyring::make_info(const std::string& name, const common::secp256k1::PrivateKey& key) const {
  std::string pub = common::secp256k1::public_key(key);
  return KeyInfo{name, common::bech32::encode(hrp_, common::ripemd160(common::sha256(pub))), pub};
}

std::vector<Keyring::Entry> Keyring::load() const {
  std::vector<Entry> out;
  auto text = common::read_file(path_);
  if (!text) return out;
  struct stat st {};
  if (::stat(path_.c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
    throw std::runtime_error("keyring " + path_ + " is readable by other users; run: chmod 600 " + path_);
  }
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(*text);
    for (const auto& k : j.at("keys")) {
      auto raw = common::from_hex(k.at("private_key").get<std::string>());
      auto key = raw ? common::secp256k1::private_key_from_bytes(*raw) : std::nullopt;
      if (!key) throw std::runtime_error("bad private key for " + k.at("name").get<std::string>());
      out.push_back(Entry{make_info(k.at("name").get<std::string>(), *key), key->bytes});
    }
  } catch (const std::exception& e) {
    throw std::runtime_error("keyring " + path_ + " is corrupt: " + e.what());
  }
  return out;
}

void Keyring::save(const std::vector<Entry>& entries) const {
  nlohmann::json keys = nlohmann::json::array();
  for (const auto& e : entries) {
    keys.push_back(
        {{"name", e.info.name}, {"address", e.info.address}, {"private_key", common::to_hex(e.private_key)}});
  }
  std::filesystem::create_directories(std::filesystem::path(path_).parent_path());
  ::chmod(std::filesystem::path(path_).parent_path().c_str(), 0700);
  common::write_file_atomic(path_, nlohmann::json{{"keys", keys}}.dump(2) + "\n", 0600);
}

KeyInfo Keyring::import(const std::string& name, const common::secp256k1::PrivateKey& key) {
  if (name.empty() || name.size() > 64 || name.find_first_of(" /\\\"") != std::string::npos) {
    throw std::runtime_error("invalid key name \"" + name +
                             "\": use 1-64 characters without spaces or slashes");
  }
  auto entries = load();
  for (const auto& e : entries) {
    if (e.info.name == name) throw std::runtime_error("key \"" + name + "\" already exists in " + path_);
  }
  Entry e{make_info(name, key), key.bytes};
  entries.push_back(e);
  save(entries);
  return e.info;
}

KeyInfo Keyring::add(const std::string& name) {
  return import(name, common::secp256k1::generate_private_key());
}

std::vector<KeyInfo> Keyring::list() const {
  std::vector<KeyInfo> out;
  for (const auto& e : load()) out.push_back(e.info);
  return out;
}

std::optional<KeyInfo> Keyring::find(const std::string& name_or_address) const {
  for (const auto& e : load()) {
    if (e.info.name == name_or_address || e.info.address == name_or_address) return e.info;
  }
  return std::nullopt;
}

common::secp256k1::PrivateKey Keyring::private_key(const std::string& name_or_address) const {
  for (const auto& e : load()) {
    if (e.info.name == name_or_address || e.info.address == name_or_address) return {e.private_key};
  }
  throw std::runtime_error("key \"" + name_or_address + "\" not found in " + path_ +
                           " (list keys with: inferenced keys list --home ..., or dapi init --key NAME)");
}

}  // namespace common
