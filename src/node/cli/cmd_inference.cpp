// inferenced tx inference submit-new-participant|submit-hardware-diff|register-model and
// inferenced query inference governance-models|participants|hardware-nodes|nodes-for-model
// (docs/governance.md).
#include <optional>

#include "chain/types/address.h"
#include "chain/x/gov/authority.h"
#include "chain/x/models/models.h"
#include "chain/x/nodes/nodes.h"
#include "common/bytes.h"
#include "common/ed25519.h"
#include "common/file_util.h"
#include "common/participant_key.h"
#include "node/cli/client.h"
#include "node/cli/commands.h"
#include "node/cli/model_flags.h"
#include "node/home.h"

namespace node::cli {

using nlohmann::json;

CLI::App* subgroup(CLI::App* parent, const std::string& name, const std::string& description) {
  for (auto* sub : parent->get_subcommands([](CLI::App*) { return true; })) {
    if (sub->get_name() == name) return sub;
  }
  return parent->add_subcommand(name, description);
}

void add_model_flags(CLI::App* cmd, ModelFlags& f) {
  f.cmd = cmd;
  cmd->add_option("model_id", f.id, "model id, e.g. Qwen/Qwen2.5-7B-Instruct");
  cmd->add_option("--model-file", f.file, "Model JSON with any fields (flags override them)");
  cmd->add_option("--units-of-compute-per-token", f.units_of_compute_per_token, "units of compute per token");
  cmd->add_option("--context-window", f.context_window, "context window in tokens");
  cmd->add_option("--quantization", f.quantization, "quantization, e.g. fp8");
  cmd->add_option("--hf-repo", f.hf_repo, "Hugging Face repo owner/name");
  cmd->add_option("--hf-commit", f.hf_commit, "Hugging Face commit (40 hex)");
  cmd->add_option("--model-args", f.model_args,
                  "server arguments: a JSON array '[\"--quantization\",\"fp8\"]' or a space-separated string "
                  "given as --model-args=\"--quantization fp8\"");
  cmd->add_option("--v-ram", f.v_ram, "GPU memory needed, GB");
  cmd->add_option("--throughput-per-nonce", f.throughput_per_nonce, "throughput per PoC nonce");
  cmd->add_option("--validation-threshold", f.validation_threshold, "validation threshold, e.g. 0.98");
  cmd->add_option("--proposed-by", f.proposed_by, "proposer address (default: the signer)");
}

chain::x::models::Model build_model(const ModelFlags& f, const std::string& default_proposer) {
  chain::x::models::Model m;
  if (!f.file.empty()) {
    auto text = common::read_file(f.file);
    if (!text) throw std::runtime_error("cannot read " + f.file);
    json j = json::parse(*text, nullptr, false);
    if (j.is_discarded()) throw std::runtime_error(f.file + " is not valid JSON");
    auto parsed = chain::x::models::model_from_json(j);
    if (!parsed) throw std::runtime_error(f.file + ": " + parsed.error().message);
    m = *parsed;
  }
  auto given = [&](const std::string& name) { return f.cmd->count(name) > 0; };
  if (!f.id.empty()) m.set_id(f.id);
  if (given("--units-of-compute-per-token")) m.set_units_of_compute_per_token(f.units_of_compute_per_token);
  if (given("--context-window")) m.set_context_window(f.context_window);
  if (given("--quantization")) m.set_quantization(f.quantization);
  if (given("--hf-repo")) m.set_hf_repo(f.hf_repo);
  if (given("--hf-commit")) m.set_hf_commit(f.hf_commit);
  if (given("--v-ram")) m.set_v_ram(f.v_ram);
  if (given("--throughput-per-nonce")) m.set_throughput_per_nonce(f.throughput_per_nonce);
  if (given("--validation-threshold")) {
    auto d = chain::x::models::parse_decimal(f.validation_threshold);
    if (!d) throw std::runtime_error("--validation-threshold: " + d.error().message);
    *m.mutable_validation_threshold() = *d;
  }
  if (given("--model-args")) {
    m.clear_model_args();
    if (!f.model_args.empty() && f.model_args[0] == '[') {
      json args = json::parse(f.model_args, nullptr, false);
      if (args.is_discarded() || !args.is_array())
        throw std::runtime_error("--model-args: invalid JSON array");
      for (const auto& a : args) {
        if (!a.is_string()) throw std::runtime_error("--model-args: the JSON array must hold strings");
        m.add_model_args(a.get<std::string>());
      }
    } else {
      size_t i = 0;
      while (i < f.model_args.size()) {
        while (i < f.model_args.size() && f.model_args[i] == ' ') ++i;
        size_t j = f.model_args.find(' ', i);
        if (j == std::string::npos) j = f.model_args.size();
        if (j > i) m.add_model_args(f.model_args.substr(i, j - i));
        i = j;
      }
    }
  }
  if (given("--proposed-by")) m.set_proposed_by(f.proposed_by);
  if (m.proposed_by().empty()) m.set_proposed_by(default_proposer);
  if (m.id().empty())
    throw std::runtime_error("give the model id (positional MODEL_ID or \"id\" in --model-file)");
  return m;
}

namespace {

// The ed25519 validator key in `path`: this node's config/validator_key.json ({"pub_key": B64, "priv_key":
// B64}) or CometBFT's priv_validator_key.json ({"pub_key": {"value": B64}, "priv_key": {"value": B64}}).
// priv_key is the 32-byte seed or seed || public key; a given pub_key must match it.
common::ed25519::KeyPair load_validator_key_file(const std::string& path) {
  auto text = common::read_file(path);
  if (!text) throw std::runtime_error("cannot read validator key file " + path);
  json j = json::parse(*text, nullptr, false);
  auto field = [&](const char* name) -> std::string {
    if (!j.is_object() || !j.contains(name)) return "";
    const auto& v = j[name];
    if (v.is_string()) return v.get<std::string>();
    if (v.is_object() && v.contains("value") && v["value"].is_string()) return v["value"].get<std::string>();
    return "";
  };
  auto priv = common::from_base64(field("priv_key"));
  if (!priv || (priv->size() != 32 && priv->size() != 64)) {
    throw std::runtime_error(
        path + ": priv_key must be the base64 of a 32-byte ed25519 seed (or seed || public key)");
  }
  auto key = common::ed25519::from_seed(priv->substr(0, 32));
  if (!key) throw std::runtime_error(path + ": priv_key is not a usable ed25519 seed");
  std::string pub_b64 = field("pub_key");
  if (!pub_b64.empty() && common::from_base64(pub_b64) != std::optional<std::string>(key->public_key)) {
    throw std::runtime_error(path + ": pub_key does not belong to priv_key");
  }
  if (priv->size() == 64 && priv->substr(32) != key->public_key) {
    throw std::runtime_error(path + ": the public half of priv_key does not belong to its seed");
  }
  return *key;
}

struct ParticipantOptions : TxOptions {
  std::string url;
  std::string validator_key_file;
  std::string validator_key;
  std::string validator_key_signature;
};

struct DiffOptions : TxOptions {
  std::string file;
  std::string creator;
};

struct DirectModelOptions : TxOptions {
  std::string authority;
};

}  // namespace

void register_inference(CommandTree& tree) {
  auto* tx_inf = subgroup(tree.tx, "inference", "inference module transactions");
  tx_inf->require_subcommand(1);

  auto po = std::make_shared<ParticipantOptions>();
  auto* part = tx_inf->add_subcommand("submit-new-participant",
                                      "register the signer as a participant: submit-new-participant URL");
  part->add_option("url", po->url, "public URL of the participant's API node")->required();
  part->add_option("--validator-key-file", po->validator_key_file,
                   "ed25519 validator key JSON that signs the key proof (default: this home's "
                   "config/validator_key.json; CometBFT's priv_validator_key.json works too)");
  part->add_option("--validator-key", po->validator_key,
                   "base64 ed25519 validator public key signed elsewhere; needs --validator-key-signature");
  part->add_option(
      "--validator-key-signature", po->validator_key_signature,
      "base64 ed25519 signature of the key proof (sign bytes: \"inference/participant-validator-key\" "
      "0x00 CHAIN_ID 0x00 CREATOR_BECH32, see docs/transactions.md)");
  add_tx_options(part, *po);
  part->callback([po] {
    if (po->from.empty()) throw std::runtime_error("--from is required");
    chain::x::nodes::MsgSubmitNewParticipant msg;
    msg.set_creator(resolve_address(po->home, po->from));
    msg.set_url(po->url);
    if (!po->validator_key.empty() || !po->validator_key_signature.empty()) {
      // A key held elsewhere (e.g. a remote signer): the caller brings the proof.
      if (po->validator_key.empty() || po->validator_key_signature.empty() ||
          !po->validator_key_file.empty()) {
        throw std::runtime_error(
            "--validator-key and --validator-key-signature go together (and without --validator-key-file): "
            "the chain "
            "only binds a validator key whose holder signed the key proof");
      }
      auto key = common::from_base64(po->validator_key);
      if (!key) throw std::runtime_error("--validator-key is not base64");
      auto sig = common::from_base64(po->validator_key_signature);
      if (!sig) throw std::runtime_error("--validator-key-signature is not base64");
      msg.set_validator_public_key(*key);
      msg.set_validator_key_signature(*sig);
    } else {
      auto key = load_validator_key_file(po->validator_key_file.empty() ? Home{po->home}.validator_key_file()
                                                                        : po->validator_key_file);
      auto status = NodeClient(*po).get("/status");
      if (!status) throw std::runtime_error(status.error().message);
      std::string chain_id = (*status)["chain_id"];
      msg.set_validator_public_key(key.public_key);
      msg.set_validator_key_signature(common::participant_key::sign(key, chain_id, msg.creator()));
    }
    std::exit(sign_and_broadcast(
        *po, {{std::string(chain::x::nodes::kMsgSubmitNewParticipantUrl), msg.SerializeAsString()}}));
  });

  auto dopts = std::make_shared<DiffOptions>();
  auto* diff =
      tx_inf->add_subcommand("submit-hardware-diff",
                             "add, modify and remove the signer's MLNodes: submit-hardware-diff FILE.json "
                             "{\"new_or_modified\": [{local_id, status, models, hardware, host, "
                             "inference_port, poc_port}], \"removed\": [local_id]}");
  diff->add_option("file", dopts->file, "hardware diff JSON file")->required();
  diff->add_option("--creator", dopts->creator,
                   "participant whose nodes change (default: the signer; the chain "
                   "rejects any other)");
  add_tx_options(diff, *dopts);
  diff->callback([dopts] {
    if (dopts->from.empty()) throw std::runtime_error("--from is required");
    auto text = common::read_file(dopts->file);
    if (!text) throw std::runtime_error("cannot read " + dopts->file);
    json j = json::parse(*text, nullptr, false);
    if (j.is_discarded()) throw std::runtime_error(dopts->file + " is not valid JSON");
    auto msg = chain::x::nodes::hardware_diff_from_json(j);
    if (!msg) throw std::runtime_error(dopts->file + ": " + msg.error().message);
    msg->set_creator(resolve_address(dopts->home, dopts->creator.empty() ? dopts->from : dopts->creator));
    std::exit(sign_and_broadcast(
        *dopts, {{std::string(chain::x::nodes::kMsgSubmitHardwareDiffUrl), msg->SerializeAsString()}}));
  });

  // The direct form of MsgRegisterModel: only the gov authority may sign it, so from an ordinary key the
  // chain rejects it. Kept for --generate-only flows and to show the rejection; use `tx gov submit-proposal
  // register-model`.
  auto mo = std::make_shared<DirectModelOptions>();
  auto mflags = std::make_shared<ModelFlags>();
  auto* reg =
      tx_inf->add_subcommand("register-model",
                             "send MsgRegisterModel directly (rejected unless signed by the gov authority; "
                             "use tx gov submit-proposal register-model)");
  add_model_flags(reg, *mflags);
  reg->add_option("--authority", mo->authority, "authority field (default: the gov module account)");
  add_tx_options(reg, *mo);
  reg->callback([mo, mflags] {
    if (mo->from.empty()) throw std::runtime_error("--from is required");
    inference::inference::MsgRegisterModel msg;
    msg.set_authority(mo->authority.empty()
                          ? chain::types::to_bech32(address_prefix(mo->home), chain::x::gov::authority())
                          : resolve_address(mo->home, mo->authority));
    *msg.mutable_model() = build_model(*mflags, resolve_address(mo->home, mo->from));
    std::exit(sign_and_broadcast(
        *mo, {{std::string(chain::x::models::kMsgRegisterModelUrl), msg.SerializeAsString()}}));
  });

  // Queries.
  auto* q_inf = subgroup(tree.query, "inference", "inference module queries");
  q_inf->require_subcommand(1);
  auto qo = std::make_shared<ClientOptions>();
  auto arg = std::make_shared<std::string>();
  auto simple = [&](const std::string& name, const std::string& help, const std::string& path) {
    auto* cmd = q_inf->add_subcommand(name, help);
    add_client_options(cmd, *qo);
    cmd->callback([qo, path] { get_and_print(*qo, path); });
  };
  auto with_arg = [&](const std::string& name, const std::string& help, const std::string& arg_name,
                      const std::string& prefix, bool address) {
    auto* cmd = q_inf->add_subcommand(name, help);
    cmd->add_option(arg_name, *arg, arg_name)->required();
    add_client_options(cmd, *qo);
    cmd->callback([qo, arg, prefix, address] {
      get_and_print(*qo, prefix + (address ? resolve_address(qo->home, *arg) : *arg));
    });
  };
  simple("governance-models", "the governance model registry", "/inference/governance/models");
  with_arg("governance-model", "one governance model: governance-model MODEL_ID", "model_id",
           "/inference/governance/models/", false);
  simple("participants", "registered participants", "/inference/participants");
  with_arg("participant", "one participant: participant ADDRESS", "address", "/inference/participants/",
           true);
  with_arg("hardware-nodes", "a participant's MLNodes: hardware-nodes ADDRESS", "address",
           "/inference/hardware-nodes/", true);
  with_arg("nodes-for-model", "MLNodes that serve a model: nodes-for-model MODEL_ID", "model_id",
           "/inference/nodes-for-model/", false);
}

}  // namespace node::cli
