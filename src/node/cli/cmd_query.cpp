// inferenced status / query tx|block|account|path
#include "node/cli/client.h"
#include "node/cli/commands.h"

namespace node::cli {

void register_query(CommandTree& tree) {
  auto opts = std::make_shared<ClientOptions>();
  auto arg = std::make_shared<std::string>();

  auto* status = tree.root->add_subcommand("status", "chain id, height and app hash of the node");
  add_client_options(status, *opts);
  status->callback([opts] { get_and_print(*opts, "/status"); });

  auto* tx = tree.query->add_subcommand("tx", "a committed tx by hash");
  tx->add_option("hash", *arg, "tx hash (hex)")->required();
  add_client_options(tx, *opts);
  tx->callback([opts, arg] { get_and_print(*opts, "/txs/" + *arg); });

  auto* block = tree.query->add_subcommand("block", "a block by height (or \"latest\")");
  block->add_option("height", *arg, "height")->default_val("latest");
  add_client_options(block, *opts);
  block->callback([opts, arg] { get_and_print(*opts, "/blocks/" + *arg); });

  auto* account = tree.query->add_subcommand("account", "account number, sequence and public key");
  account->add_option("address", *arg, "address or key name")->required();
  add_client_options(account, *opts);
  account->callback([opts, arg] { get_and_print(*opts, "/auth/accounts/" + resolve_address(opts->home, *arg)); });

  auto* path = tree.query->add_subcommand("path", "any query path, e.g. /inference/governance/models");
  path->add_option("path", *arg, "query path")->required();
  add_client_options(path, *opts);
  path->callback([opts, arg] { get_and_print(*opts, (*arg)[0] == '/' ? *arg : "/" + *arg); });
}

}  // namespace node::cli
