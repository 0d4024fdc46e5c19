// Balances in the base denomination (and any other valid denom), transfers, module accounts, mint/burn.
#pragma once

#include <vector>

#include "chain/app/module.h"
#include "chain/types/address.h"
#include "chain/types/coins.h"
#include "inference/bank.pb.h"

namespace chain::x::bank {

inline constexpr std::string_view kMsgSendUrl = "/inference.bank.MsgSend";

uint64_t balance(const store::KvReader& state, const types::Address& address, std::string_view denom);
std::vector<types::Coin> balances(const store::KvReader& state, const types::Address& address);
uint64_t supply(const store::KvReader& state, std::string_view denom);

common::Status send(app::Context& ctx, const types::Address& from, const types::Address& to, const types::Coin& coin);
// Creates new coins in `to` (a module account normally) and raises the supply.
common::Status mint(app::Context& ctx, const types::Address& to, const types::Coin& coin);
common::Status burn(app::Context& ctx, const types::Address& from, const types::Coin& coin);

// Validates and converts protobuf coins (non-empty, valid denoms, positive amounts, no duplicates).
common::Result<std::vector<types::Coin>> coins_from_proto(
    const google::protobuf::RepeatedPtrField<inference::bank::Coin>& coins);

class BankModule final : public app::Module {
 public:
  std::string_view name() const override { return "bank"; }
  common::Status init_genesis(app::Context& ctx, const nlohmann::json& app_state) override;
  void register_messages(app::MsgRouter& router) override;
  void register_queries(app::QueryRouter& router) override;
};

}  // namespace chain::x::bank
