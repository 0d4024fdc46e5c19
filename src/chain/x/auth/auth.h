// Accounts: public key, sequence (replay protection) and account number.
#pragma once

#include <optional>

#include "chain/app/module.h"
#include "chain/types/address.h"
#include "inference/auth.pb.h"

namespace chain::x::auth {

using Account = inference::auth::Account;

std::optional<Account> get_account(const store::KvReader& state, const types::Address& address);
void set_account(store::KvStore& state, const types::Address& address, const Account& account);
// Returns the account, creating it (with the next account number) if it does not exist yet.
Account ensure_account(store::KvStore& state, const types::Address& address);

class AuthModule final : public app::Module {
 public:
  std::string_view name() const override { return "auth"; }
  void register_queries(app::QueryRouter& router) override;
};

}  // namespace chain::x::auth
