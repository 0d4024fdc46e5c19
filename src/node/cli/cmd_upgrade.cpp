// inferenced tx inference partial-upgrade HEIGHT NODE_VERSION API_BINARIES_JSON --title --summary --deposit --from
// (the upgrade seed's operator guide: submits a governance proposal holding MsgCreatePartialUpgrade) and
// inferenced query inference mlnode-version|partial-upgrades|partial-upgrade (docs/upgrade.md).
#include <memory>

#include "chain/types/address.h"
#include "chain/types/coins.h"
#include "chain/x/gov/gov.h"
#include "chain/x/upgrade/upgrade.h"
#include "node/cli/client.h"
#include "node/cli/commands.h"
#include "node/cli/model_flags.h"

namespace node::cli {

namespace {

struct PartialUpgradeOptions : TxOptions {
  uint64_t height = 0;
  std::string node_version;
  std::string api_binaries_json;
  std::string title;
  std::string summary;
  std::string deposit;
};

}  // namespace

void register_upgrade(CommandTree& tree) {
  auto* tx_inf = subgroup(tree.tx, "inference", "inference module transactions");
  auto o = std::make_shared<PartialUpgradeOptions>();
  auto* cmd = tx_inf->add_subcommand(
      "partial-upgrade",
      "propose MsgCreatePartialUpgrade through governance: partial-upgrade HEIGHT NODE_VERSION API_BINARIES_JSON "
      "(e.g. 12000 \"v3.0.8\" \"\"); at HEIGHT the chain's MLNode version becomes NODE_VERSION");
  cmd->add_option("height", o->height, "block height at which the upgrade applies (above the voting period end)")
      ->required();
  cmd->add_option("node_version", o->node_version, "MLNode version, e.g. v3.0.8 (\"\" for none)")->required();
  cmd->add_option("api_binaries_json", o->api_binaries_json, "API binaries JSON object, or \"\"");
  cmd->add_option("--title", o->title, "proposal title (1-140 characters)")->required();
  cmd->add_option("--summary", o->summary, "proposal summary");
  cmd->add_option("--deposit", o->deposit, "deposit escrowed until the tally, e.g. 10000nicoin");
  add_tx_options(cmd, *o);
  cmd->callback([o] {
    if (o->from.empty()) throw std::runtime_error("--from is required");
    // The chain validates every field (and rejects the proposal at submission); nothing is checked twice here.
    inference::inference::MsgCreatePartialUpgrade upgrade;
    upgrade.set_authority(chain::types::to_bech32(address_prefix(o->home), chain::x::gov::authority()));
    upgrade.set_height(o->height);
    upgrade.set_node_version(o->node_version);
    upgrade.set_api_binaries_json(o->api_binaries_json);
    inference::gov::MsgSubmitProposal msg;
    msg.set_proposer(resolve_address(o->home, o->from));
    msg.set_title(o->title);
    msg.set_summary(o->summary);
    add_deposit(msg, o->deposit);
    auto* any = msg.add_messages();
    any->set_type_url(std::string(chain::x::upgrade::kMsgCreatePartialUpgradeUrl));
    any->set_value(upgrade.SerializeAsString());
    std::exit(sign_and_broadcast(*o, {{std::string(chain::x::gov::kMsgSubmitProposalUrl), msg.SerializeAsString()}}));
  });

  auto* q_inf = subgroup(tree.query, "inference", "inference module queries");
  auto qo = std::make_shared<ClientOptions>();
  auto arg = std::make_shared<std::string>();
  auto* version = q_inf->add_subcommand("mlnode-version", "the chain's current MLNode version and the next upgrade");
  add_client_options(version, *qo);
  version->callback([qo] { get_and_print(*qo, "/inference/mlnode-version"); });
  auto* list = q_inf->add_subcommand("partial-upgrades", "partial upgrades by height [--status pending|applied]");
  list->add_option("--status", *arg, "only pending or only applied upgrades");
  add_client_options(list, *qo);
  list->callback(
      [qo, arg] { get_and_print(*qo, "/inference/partial-upgrades" + (arg->empty() ? "" : "?status=" + *arg)); });
  auto* one = q_inf->add_subcommand("partial-upgrade", "one partial upgrade: partial-upgrade HEIGHT");
  one->add_option("height", *arg, "upgrade height")->required();
  add_client_options(one, *qo);
  one->callback([qo, arg] { get_and_print(*qo, "/inference/partial-upgrades/" + *arg); });
}

}  // namespace node::cli
