#include "chain/app/genesis.h"

#include "chain/types/codes.h"
#include "common/bytes.h"
#include "common/json_text.h"

namespace chain::app {

common::Result<Genesis> Genesis::from_json(const nlohmann::json& j) {
  auto bad = [](const std::string& what) {
    return common::make_error(codes::kInvalidRequest, "invalid genesis: " + what);
  };
  try {
    if (!j.is_object()) return bad("the genesis must be a JSON object");
    if (auto e = common::unknown_key_error(
            j,
            {"chain_id", "address_prefix", "genesis_time_unix_ms", "max_tx_bytes", "validators", "app_state"},
            "the genesis")) {
      return bad(*e);
    }
    Genesis g;
    g.chain_id = j.at("chain_id").get<std::string>();
    if (g.chain_id.empty() || g.chain_id.size() > 50) return bad("chain_id must be 1-50 characters");
    g.address_prefix = j.value("address_prefix", g.address_prefix);
    if (g.address_prefix.empty()) return bad("address_prefix is empty");
    g.genesis_time_unix_ms = j.value("genesis_time_unix_ms", int64_t{0});
    g.max_tx_bytes = j.value("max_tx_bytes", g.max_tx_bytes);
    if (g.max_tx_bytes < 1024) return bad("max_tx_bytes must be at least 1024");
    for (const auto& v : j.value("validators", nlohmann::json::array())) {
      if (auto e = common::unknown_key_error(v, {"name", "operator_address", "pub_key", "power"},
                                             "a genesis validator")) {
        return bad(*e);
      }
      GenesisValidator gv;
      gv.name = v.value("name", "");
      gv.operator_address = v.at("operator_address").get<std::string>();
      auto pk = common::from_base64(v.at("pub_key").get<std::string>());
      if (!pk || pk->size() != 32) return bad("validator pub_key must be base64 of a 32-byte ed25519 key");
      gv.pub_key = *pk;
      gv.power = v.at("power").get<int64_t>();
      if (gv.power <= 0) return bad("validator power must be positive");
      g.validators.push_back(gv);
    }
    if (g.validators.empty()) return bad("at least one validator is required");
    g.app_state = j.value("app_state", nlohmann::json::object());
    if (!g.app_state.is_object()) return bad("app_state must be a JSON object");
    return g;
  } catch (const nlohmann::json::exception& e) {
    return bad(e.what());
  }
}

nlohmann::json Genesis::to_json() const {
  nlohmann::json vals = nlohmann::json::array();
  for (const auto& v : validators) {
    vals.push_back({{"name", v.name},
                    {"operator_address", v.operator_address},
                    {"pub_key", common::to_base64(v.pub_key)},
                    {"power", v.power}});
  }
  return {{"chain_id", chain_id},
          {"address_prefix", address_prefix},
          {"genesis_time_unix_ms", genesis_time_unix_ms},
          {"max_tx_bytes", max_tx_bytes},
          {"validators", vals},
          {"app_state", app_state}};
}

}  // namespace chain::app
