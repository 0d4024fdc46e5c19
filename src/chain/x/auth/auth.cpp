#include "chain/x/auth/auth.h"

#include "common/bytes.h"

namespace chain::x::auth {

namespace keys {
std::string account(const types::Address& address) { return "auth/acc/" + address; }
constexpr std::string_view kNextAccountNumber = "auth/next_account_number";
}  // namespace keys

std::optional<Account> get_account(const store::KvReader& state, const types::Address& address) {
  auto raw = state.get(keys::account(address));
  if (!raw) return std::nullopt;
  Account account;
  if (!account.ParseFromString(*raw)) throw std::logic_error("corrupt account record in state");
  return account;
}

void set_account(store::KvStore& state, const types::Address& address, const Account& account) {
  state.set(keys::account(address), account.SerializeAsString());
}

Account ensure_account(store::KvStore& state, const types::Address& address) {
  if (auto existing = get_account(state, address)) return *existing;
  uint64_t number = 0;
  if (auto raw = state.get(keys::kNextAccountNumber); raw && raw->size() == 8) number = common::get_be64(*raw);
  state.set(keys::kNextAccountNumber, common::be64(number + 1));
  Account account;
  account.set_account_number(number);
  set_account(state, address, account);
  return account;
}

void AuthModule::register_queries(app::QueryRouter& router) {
  router.add("/auth/accounts/{address}", [](const app::QueryRequest& req) -> common::Result<nlohmann::json> {
    auto address = types::parse_address(req.hrp, req.param("address"));
    if (!address) return address.error();
    auto account = get_account(req.state, *address);
    if (!account) {
      return common::make_error(codes::kNotFound, "account " + req.param("address") + " not found");
    }
    return nlohmann::json{{"address", req.param("address")},
                          {"public_key", common::to_base64(account->public_key())},
                          {"sequence", std::to_string(account->sequence())},
                          {"account_number", std::to_string(account->account_number())}};
  });
}

}  // namespace chain::x::auth
