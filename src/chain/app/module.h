// A chain module: genesis, messages, queries and block hooks. Modules run in a fixed order (App::modules_).
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

#include "chain/app/context.h"
#include "chain/app/genesis.h"
#include "chain/app/msg_router.h"
#include "chain/app/query_router.h"
#include "common/result.h"

namespace chain::app {

struct ValidatorUpdate {
  std::string pub_key;  // 32-byte ed25519
  int64_t power = 0;    // 0 removes the validator
};

class Module {
 public:
  virtual ~Module() = default;
  virtual std::string_view name() const = 0;
  // `app_state` is the whole genesis app_state object; a module reads its own section.
  virtual common::Status init_genesis(Context& ctx, const nlohmann::json& app_state) { return {}; }
  // Called at InitChain after every module's init_genesis, with the genesis validators (operator address and
  // power): the weights that count until the first epoch group forms (gov voting power, for one).
  virtual common::Status init_genesis_validators(Context& ctx, const std::vector<GenesisValidator>& validators) {
    return {};
  }
  // This module's section of a fresh genesis for a preset ("localnet", "testnet", "mainnet"); null = none.
  virtual nlohmann::json default_genesis(std::string_view preset) const { return nullptr; }
  virtual void register_messages(MsgRouter& router) {}
  virtual void register_queries(QueryRouter& router) {}
  virtual void begin_block(Context& ctx) {}
  virtual void end_block(Context& ctx, std::vector<ValidatorUpdate>& validator_updates) {}
};

}  // namespace chain::app
