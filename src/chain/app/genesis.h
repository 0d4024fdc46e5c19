// Genesis file (config/genesis.json): chain id, address prefix, consensus validators and the app state
// that each module initialises from its own section.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"

namespace chain::app {

struct GenesisValidator {
  std::string name;
  std::string operator_address;  // bech32 account address of the operator
  std::string pub_key;           // 32-byte ed25519 consensus key (raw)
  int64_t power = 0;
};

struct Genesis {
  std::string chain_id;
  std::string address_prefix = "gonka";
  int64_t genesis_time_unix_ms = 0;
  uint64_t max_tx_bytes = 1 << 20;
  std::vector<GenesisValidator> validators;
  nlohmann::json app_state = nlohmann::json::object();

  static common::Result<Genesis> from_json(const nlohmann::json& j);
  nlohmann::json to_json() const;
};

}  // namespace chain::app
