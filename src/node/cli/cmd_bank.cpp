// inferenced tx bank send / inferenced query bank balance|balances
#include <iostream>

#include "chain/types/coins.h"
#include "chain/x/bank/bank.h"
#include "node/cli/client.h"
#include "node/cli/commands.h"

namespace node::cli {

namespace {
struct SendOptions : TxOptions {
  std::string to;
  std::string amount;
};
}  // namespace

void register_bank(CommandTree& tree) {
  auto* tx_bank = tree.tx->add_subcommand("bank", "bank transactions");
  tx_bank->require_subcommand(1);
  auto so = std::make_shared<SendOptions>();
  auto* send = tx_bank->add_subcommand("send", "send coins: send FROM TO AMOUNT (e.g. 100nicoin)");
  send->add_option("from", so->from, "key name or address in the keyring")->required();
  send->add_option("to", so->to, "recipient address (or a key name in the keyring)")->required();
  send->add_option("amount", so->amount, "amount with denomination, e.g. 100nicoin")->required();
  add_tx_options(send, *so);
  send->callback([so] {
    auto coin = chain::types::parse_coin(so->amount);
    if (!coin) throw std::runtime_error(coin.error().message);
    inference::bank::MsgSend msg;
    msg.set_from_address(resolve_address(so->home, so->from));
    msg.set_to_address(resolve_address(so->home, so->to));
    auto* c = msg.add_amount();
    c->set_denom(coin->denom);
    c->set_amount(std::to_string(coin->amount));
    std::exit(sign_and_broadcast(*so, {{std::string(chain::x::bank::kMsgSendUrl), msg.SerializeAsString()}}));
  });

  auto* q_bank = tree.query->add_subcommand("bank", "bank queries");
  q_bank->require_subcommand(1);
  auto qo = std::make_shared<ClientOptions>();
  auto address = std::make_shared<std::string>();
  auto denom = std::make_shared<std::string>("nicoin");
  auto* balance = q_bank->add_subcommand("balance", "balance of one denomination: balance ADDRESS [--denom nicoin]");
  balance->add_option("address", *address, "address or key name")->required();
  balance->add_option("--denom", *denom, "denomination")->default_val("nicoin");
  add_client_options(balance, *qo);
  balance->callback([qo, address, denom] {
    std::string addr = resolve_address(qo->home, *address);
    auto r = NodeClient(*qo).get("/bank/balances/" + addr);
    if (!r) throw std::runtime_error(r.error().message);
    std::string amount = "0";
    for (const auto& b : (*r)["balances"]) {
      if (b["denom"] == *denom) amount = b["amount"];
    }
    print_json({{"address", addr}, {"denom", *denom}, {"amount", amount}});
  });
  auto* balances = q_bank->add_subcommand("balances", "all balances of an address");
  balances->add_option("address", *address, "address or key name")->required();
  add_client_options(balances, *qo);
  balances->callback([qo, address] {
    auto r = NodeClient(*qo).get("/bank/balances/" + resolve_address(qo->home, *address));
    if (!r) throw std::runtime_error(r.error().message);
    print_json(*r);
  });
}

}  // namespace node::cli
