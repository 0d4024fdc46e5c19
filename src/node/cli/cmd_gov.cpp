// inferenced tx gov submit-proposal|vote / inferenced query gov ... (docs/governance.md)
#include <google/protobuf/descriptor.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/util/json_util.h>

#include "chain/types/address.h"
#include "chain/types/coins.h"
#include "chain/x/gov/gov.h"
#include "common/file_util.h"
#include "common/json_text.h"
#include "node/cli/client.h"
#include "node/cli/commands.h"
#include "node/cli/model_flags.h"

namespace node::cli {

using nlohmann::json;

namespace {

struct ProposalOptions : TxOptions {
  std::string title;
  std::string summary;
  std::string deposit;
};

void add_proposal_options(CLI::App* cmd, ProposalOptions& o) {
  cmd->add_option("--title", o.title, "proposal title (1-140 characters)")->required();
  cmd->add_option("--summary", o.summary, "proposal summary");
  cmd->add_option("--deposit", o.deposit,
                  "deposit escrowed until the tally, e.g. 10000nicoin (comma-separated list)");
  add_tx_options(cmd, o);
}

std::string gov_address(const std::string& home) {
  return chain::types::to_bech32(address_prefix(home), chain::x::gov::authority());
}

int submit_proposal(const ProposalOptions& o, const std::vector<common::tx::TxMessage>& messages) {
  if (o.from.empty()) throw std::runtime_error("--from is required");
  inference::gov::MsgSubmitProposal msg;
  msg.set_proposer(resolve_address(o.home, o.from));
  msg.set_title(o.title);
  msg.set_summary(o.summary);
  add_deposit(msg, o.deposit);
  for (const auto& m : messages) {
    auto* any = msg.add_messages();
    any->set_type_url(m.type_url);
    any->set_value(m.value);
  }
  return sign_and_broadcast(o,
                            {{std::string(chain::x::gov::kMsgSubmitProposalUrl), msg.SerializeAsString()}});
}

// {"@type": "/inference.inference.MsgRegisterModel", ...fields} -> serialized message (protobuf JSON
// mapping).
common::tx::TxMessage message_from_json(const json& j) {
  if (!j.is_object() || !j.contains("@type") || !j["@type"].is_string()) {
    throw std::runtime_error("each message needs \"@type\": \"/package.MsgName\"");
  }
  std::string type_url = j["@type"];
  std::string name = type_url.substr(type_url.rfind('/') + 1);
  const auto* desc = google::protobuf::DescriptorPool::generated_pool()->FindMessageTypeByName(name);
  if (!desc) throw std::runtime_error("unknown message type " + type_url);
  std::unique_ptr<google::protobuf::Message> msg(
      google::protobuf::MessageFactory::generated_factory()->GetPrototype(desc)->New());
  json body = j;
  body.erase("@type");
  auto st = google::protobuf::util::JsonStringToMessage(body.dump(), msg.get());
  if (!st.ok()) throw std::runtime_error(type_url + ": " + st.ToString());
  return {type_url, msg->SerializeAsString()};
}

inference::gov::VoteOption parse_option(std::string text) {
  for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (text == "yes") return inference::gov::VOTE_OPTION_YES;
  if (text == "no") return inference::gov::VOTE_OPTION_NO;
  if (text == "abstain") return inference::gov::VOTE_OPTION_ABSTAIN;
  if (text == "no_with_veto" || text == "nowithveto" || text == "veto")
    return inference::gov::VOTE_OPTION_NO_WITH_VETO;
  throw std::runtime_error("vote option \"" + text + "\" must be yes, no, abstain or no_with_veto");
}

}  // namespace

void register_gov(CommandTree& tree) {
  auto* tx_gov = subgroup(tree.tx, "gov", "governance transactions");
  tx_gov->require_subcommand(1);

  // submit-proposal FILE.json | submit-proposal register-model ... | submit-proposal remove-model ID
  auto* submit = tx_gov->add_subcommand(
      "submit-proposal",
      "submit a proposal: FILE.json {title, summary, deposit, messages: [{\"@type\": ..., fields}]}, "
      "or one of the subcommands");
  auto file_opts = std::make_shared<ProposalOptions>();
  auto file = std::make_shared<std::string>();
  submit->add_option("file", *file, "proposal JSON file");
  submit->add_option("--title", file_opts->title, "proposal title (overrides the file)");
  submit->add_option("--summary", file_opts->summary, "proposal summary (overrides the file)");
  submit->add_option("--deposit", file_opts->deposit, "deposit, e.g. 10000nicoin (overrides the file)");
  add_tx_options(submit, *file_opts);
  submit->callback([submit, file_opts, file] {
    if (!submit->get_subcommands().empty()) return;
    if (file->empty())
      throw std::runtime_error("give a proposal FILE.json or a subcommand (register-model, remove-model)");
    auto text = common::read_file(*file);
    if (!text) throw std::runtime_error("cannot read " + *file);
    json j = json::parse(*text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) throw std::runtime_error(*file + " is not a JSON object");
    if (auto e = common::unknown_key_error(j, {"title", "summary", "deposit", "messages"}, *file)) {
      throw std::runtime_error(*e);
    }
    ProposalOptions o = *file_opts;
    if (o.title.empty()) o.title = j.value("title", "");
    if (o.summary.empty()) o.summary = j.value("summary", "");
    if (o.deposit.empty()) o.deposit = j.value("deposit", "");
    std::vector<common::tx::TxMessage> messages;
    for (const auto& m : j.value("messages", json::array())) messages.push_back(message_from_json(m));
    std::exit(submit_proposal(o, messages));
  });

  auto rm_opts = std::make_shared<ProposalOptions>();
  auto rm_flags = std::make_shared<ModelFlags>();
  auto* reg =
      submit->add_subcommand("register-model", "propose MsgRegisterModel (create or update every field)");
  add_model_flags(reg, *rm_flags);
  add_proposal_options(reg, *rm_opts);
  reg->callback([rm_opts, rm_flags] {
    if (rm_opts->from.empty()) throw std::runtime_error("--from is required");
    inference::inference::MsgRegisterModel msg;
    msg.set_authority(gov_address(rm_opts->home));
    *msg.mutable_model() = build_model(*rm_flags, resolve_address(rm_opts->home, rm_opts->from));
    std::exit(submit_proposal(
        *rm_opts, {{std::string(chain::x::models::kMsgRegisterModelUrl), msg.SerializeAsString()}}));
  });

  auto del_opts = std::make_shared<ProposalOptions>();
  auto del_id = std::make_shared<std::string>();
  auto* del = submit->add_subcommand("remove-model", "propose MsgRemoveModel: remove-model MODEL_ID");
  del->add_option("model_id", *del_id, "model id")->required();
  add_proposal_options(del, *del_opts);
  del->callback([del_opts, del_id] {
    inference::inference::MsgRemoveModel msg;
    msg.set_authority(gov_address(del_opts->home));
    msg.set_id(*del_id);
    std::exit(submit_proposal(
        *del_opts, {{std::string(chain::x::models::kMsgRemoveModelUrl), msg.SerializeAsString()}}));
  });

  auto vote_opts = std::make_shared<TxOptions>();
  auto vote_id = std::make_shared<uint64_t>(0);
  auto vote_option = std::make_shared<std::string>();
  auto* vote = tx_gov->add_subcommand("vote", "vote on a proposal: vote ID yes|no|abstain|no_with_veto");
  vote->add_option("proposal_id", *vote_id, "proposal id")->required();
  vote->add_option("option", *vote_option, "yes, no, abstain or no_with_veto")->required();
  add_tx_options(vote, *vote_opts);
  vote->callback([vote_opts, vote_id, vote_option] {
    if (vote_opts->from.empty()) throw std::runtime_error("--from is required");
    inference::gov::MsgVote msg;
    msg.set_proposal_id(*vote_id);
    msg.set_voter(resolve_address(vote_opts->home, vote_opts->from));
    msg.set_option(parse_option(*vote_option));
    std::exit(
        sign_and_broadcast(*vote_opts, {{std::string(chain::x::gov::kMsgVoteUrl), msg.SerializeAsString()}}));
  });

  // Queries.
  auto* q_gov = subgroup(tree.query, "gov", "governance queries");
  q_gov->require_subcommand(1);
  auto qo = std::make_shared<ClientOptions>();
  auto arg = std::make_shared<std::string>();
  auto* proposals =
      q_gov->add_subcommand("proposals", "all proposals [--status voting_period|passed|rejected|failed]");
  proposals->add_option("--status", *arg, "only proposals with this status");
  add_client_options(proposals, *qo);
  proposals->callback(
      [qo, arg] { get_and_print(*qo, "/gov/proposals" + (arg->empty() ? "" : "?status=" + *arg)); });
  for (const auto& [name, suffix, help] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {"proposal", "", "one proposal: proposal ID"},
           {"votes", "/votes", "votes of a proposal: votes ID"},
           {"tally", "/tally", "current or final tally: tally ID"}}) {
    auto* cmd = q_gov->add_subcommand(name, help);
    cmd->add_option("proposal_id", *arg, "proposal id")->required();
    add_client_options(cmd, *qo);
    std::string sfx = suffix;
    cmd->callback([qo, arg, sfx] { get_and_print(*qo, "/gov/proposals/" + *arg + sfx); });
  }
  auto* params = q_gov->add_subcommand("params", "governance params");
  add_client_options(params, *qo);
  params->callback([qo] { get_and_print(*qo, "/gov/params"); });
}

}  // namespace node::cli
