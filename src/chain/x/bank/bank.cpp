#include "chain/x/bank/bank.h"

#include <set>

#include "chain/x/auth/auth.h"
#include "common/bytes.h"
#include "common/events.h"
#include "common/json_text.h"

namespace chain::x::bank {

namespace keys {
std::string balance_prefix(const types::Address& address) { return "bank/bal/" + address; }
std::string balance(const types::Address& address, std::string_view denom) {
  return balance_prefix(address) + std::string(denom);
}
std::string supply(std::string_view denom) { return "bank/supply/" + std::string(denom); }
}  // namespace keys

namespace {
uint64_t read_u64(const store::KvReader& state, const std::string& key) {
  auto raw = state.get(key);
  return raw && raw->size() == 8 ? common::get_be64(*raw) : 0;
}
void write_u64(store::KvStore& state, const std::string& key, uint64_t v) {
  if (v == 0) {
    state.erase(key);
  } else {
    state.set(key, common::be64(v));
  }
}
common::Status add_balance(app::Context& ctx, const types::Address& to, const types::Coin& coin) {
  auto& st = ctx.store();
  auto next = types::checked_add(balance(st, to, coin.denom), coin.amount);
  if (!next) return common::make_error(codes::kInvalidCoins, "balance overflow");
  auth::ensure_account(st, to);
  write_u64(st, keys::balance(to, coin.denom), *next);
  return {};
}
common::Status sub_balance(app::Context& ctx, const types::Address& from, const types::Coin& coin) {
  auto& st = ctx.store();
  uint64_t have = balance(st, from, coin.denom);
  auto next = types::checked_sub(have, coin.amount);
  if (!next) {
    return common::make_error(codes::kInsufficientFunds,
                              "insufficient funds: " + types::to_bech32(ctx.hrp(), from) + " has " +
                                  std::to_string(have) + coin.denom + ", needs " + types::format_coin(coin));
  }
  write_u64(st, keys::balance(from, coin.denom), *next);
  return {};
}
}  // namespace

uint64_t balance(const store::KvReader& state, const types::Address& address, std::string_view denom) {
  return read_u64(state, keys::balance(address, denom));
}

std::vector<types::Coin> balances(const store::KvReader& state, const types::Address& address) {
  std::vector<types::Coin> out;
  std::string prefix = keys::balance_prefix(address);
  state.scan_prefix(prefix, [&](std::string_view key, std::string_view value) {
    if (value.size() == 8) out.push_back({std::string(key.substr(prefix.size())), common::get_be64(value)});
    return true;
  });
  return out;
}

uint64_t supply(const store::KvReader& state, std::string_view denom) { return read_u64(state, keys::supply(denom)); }

common::Status send(app::Context& ctx, const types::Address& from, const types::Address& to, const types::Coin& coin) {
  TRY_STATUS(sub_balance(ctx, from, coin));
  TRY_STATUS(add_balance(ctx, to, coin));
  ctx.emit(types::Event{common::events::kTransfer,
                        {{"sender", types::to_bech32(ctx.hrp(), from)},
                         {"recipient", types::to_bech32(ctx.hrp(), to)},
                         {"amount", types::format_coin(coin)}}});
  return {};
}

common::Status mint(app::Context& ctx, const types::Address& to, const types::Coin& coin) {
  auto next_supply = types::checked_add(supply(ctx.store(), coin.denom), coin.amount);
  if (!next_supply) return common::make_error(codes::kInvalidCoins, "supply overflow minting " + types::format_coin(coin));
  TRY_STATUS(add_balance(ctx, to, coin));
  write_u64(ctx.store(), keys::supply(coin.denom), *next_supply);
  ctx.emit(types::Event{common::events::kMint, {{"recipient", types::to_bech32(ctx.hrp(), to)}, {"amount", types::format_coin(coin)}}});
  return {};
}

common::Status burn(app::Context& ctx, const types::Address& from, const types::Coin& coin) {
  TRY_STATUS(sub_balance(ctx, from, coin));
  write_u64(ctx.store(), keys::supply(coin.denom), supply(ctx.store(), coin.denom) - coin.amount);
  ctx.emit(types::Event{common::events::kBurn, {{"burner", types::to_bech32(ctx.hrp(), from)}, {"amount", types::format_coin(coin)}}});
  return {};
}

common::Result<std::vector<types::Coin>> coins_from_proto(
    const google::protobuf::RepeatedPtrField<inference::bank::Coin>& coins) {
  if (coins.empty()) return common::make_error(codes::kInvalidCoins, "no coins given");
  std::vector<types::Coin> out;
  std::set<std::string> seen;
  for (const auto& c : coins) {
    if (!types::valid_denom(c.denom())) return common::make_error(codes::kInvalidCoins, "invalid denom \"" + c.denom() + "\"");
    auto amount = types::parse_amount(c.amount());
    if (!amount) return amount.error();
    if (*amount == 0) return common::make_error(codes::kInvalidCoins, "amount must be positive");
    if (!seen.insert(c.denom()).second) return common::make_error(codes::kInvalidCoins, "duplicate denom " + c.denom());
    out.push_back({c.denom(), *amount});
  }
  return out;
}

common::Status BankModule::init_genesis(app::Context& ctx, const nlohmann::json& app_state) {
  if (!app_state.contains("bank")) return {};
  const auto& bank = app_state.at("bank");
  if (auto e = common::unknown_key_error(bank, {"balances"}, "app_state.bank")) {
    return common::make_error(codes::kInvalidRequest, *e);
  }
  if (!bank.contains("balances")) return {};
  for (const auto& entry : bank.at("balances")) {
    if (auto e = common::unknown_key_error(entry, {"address", "coins"}, "app_state.bank.balances[]")) {
      return common::make_error(codes::kInvalidRequest, *e);
    }
    auto address = types::parse_address(ctx.hrp(), entry.at("address").get<std::string>());
    if (!address) return address.error();
    for (const auto& c : entry.at("coins")) {
      if (auto e = common::unknown_key_error(c, {"denom", "amount"}, "app_state.bank.balances[].coins[]")) {
        return common::make_error(codes::kInvalidRequest, *e);
      }
      auto coin = types::parse_coin(c.at("amount").get<std::string>() + c.at("denom").get<std::string>());
      if (!coin) return coin.error();
      TRY_STATUS(mint(ctx, *address, *coin));
    }
  }
  return {};
}

void BankModule::register_messages(app::MsgRouter& router) {
  router.add_typed<inference::bank::MsgSend>(
      std::string(kMsgSendUrl),
      [](const inference::bank::MsgSend& msg, const types::Address& signer, const std::string& hrp) -> common::Status {
        auto from = types::parse_address(hrp, msg.from_address());
        if (!from) return from.error();
        if (*from != signer) {
          return common::make_error(codes::kUnauthorized, "from_address " + msg.from_address() + " is not the signer");
        }
        auto to = types::parse_address(hrp, msg.to_address());
        if (!to) return to.error();
        auto coins = coins_from_proto(msg.amount());
        if (!coins) return coins.error();
        return {};
      },
      [](app::Context& ctx, const inference::bank::MsgSend& msg, const types::Address& signer) -> common::Status {
        auto to = *types::parse_address(ctx.hrp(), msg.to_address());
        auto coins = coins_from_proto(msg.amount());
        for (const auto& coin : coins.value()) TRY_STATUS(send(ctx, signer, to, coin));
        return {};
      });
}

void BankModule::register_queries(app::QueryRouter& router) {
  router.add("/bank/balances/{address}", [](const app::QueryRequest& req) -> common::Result<nlohmann::json> {
    auto address = types::parse_address(req.hrp, req.param("address"));
    if (!address) return address.error();
    nlohmann::json list = nlohmann::json::array();
    for (const auto& coin : balances(req.state, *address)) {
      list.push_back({{"denom", coin.denom}, {"amount", std::to_string(coin.amount)}});
    }
    return nlohmann::json{{"address", req.param("address")}, {"balances", list}};
  });
  router.add("/bank/supply/{denom}", [](const app::QueryRequest& req) -> common::Result<nlohmann::json> {
    return nlohmann::json{{"denom", req.param("denom")},
                          {"amount", std::to_string(supply(req.state, req.param("denom")))}};
  });
}

}  // namespace chain::x::bank
