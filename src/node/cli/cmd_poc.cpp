// inferenced tx inference submit-poc-batch|submit-poc-validation|submit-seed|update-epoch-params and
// inferenced query inference epoch|epochs|epoch-params|epoch-group|poc-batches|poc-validations
// (docs/epochs.md).
#include "chain/x/epochs/epochs.h"
#include "chain/x/gov/authority.h"
#include "chain/x/poc/poc.h"
#include "common/bytes.h"
#include "node/cli/client.h"
#include "node/cli/commands.h"
#include "node/cli/model_flags.h"
#include "node/cli/numbers.h"

namespace node::cli {

namespace {

struct BatchOptions : TxOptions {
  std::string node_id, batch_id, nonces, dist, creator;
  uint64_t poc_start = 0;
};
struct ValidationOptions : TxOptions {
  std::string participant, creator;
  bool fraud = false;
  uint64_t n_invalid = 0, sample_size = 0, poc_start = 0;
};
struct SeedOptions : TxOptions {
  uint64_t epoch = 0;
  std::string signature_hex;
};

void query_path(CLI::App* parent, const std::string& name, const std::string& help,
                std::function<std::string(const std::vector<std::string>&)> path, size_t min_args,
                size_t max_args) {
  auto opts = std::make_shared<ClientOptions>();
  auto args = std::make_shared<std::vector<std::string>>();
  auto* cmd = parent->add_subcommand(name, help);
  if (max_args > 0) {
    auto* opt = cmd->add_option("args", *args, "arguments");
    opt->expected(static_cast<int>(min_args), static_cast<int>(max_args));
    if (min_args > 0) opt->required();
  }
  add_client_options(cmd, *opts);
  cmd->callback([opts, args, path] {
    auto r = NodeClient(*opts).get(path(*args));
    if (!r) throw std::runtime_error(r.error().message);
    print_json(*r);
  });
}

}  // namespace

void register_poc(CommandTree& tree) {
  auto* tx_inf = subgroup(tree.tx, "inference", "inference module transactions");

  auto bo = std::make_shared<BatchOptions>();
  auto* batch =
      tx_inf->add_subcommand("submit-poc-batch",
                             "submit a PoC batch of one of your MLNodes: submit-poc-batch NODE_ID BATCH_ID "
                             "--nonces 1,2,10-20 [--dist 0.1,0.2,...]");
  batch->add_option("node_id", bo->node_id, "local id of your MLNode")->required();
  batch->add_option("batch_id", bo->batch_id, "batch id (new per batch)")->required();
  batch->add_option("--nonces", bo->nonces, "nonces: comma-separated values and inclusive ranges A-B")
      ->required();
  batch->add_option("--dist", bo->dist, "distances, comma-separated, one per nonce (default 0 for each)");
  batch->add_option("--poc-start-height", bo->poc_start,
                    "PoC start height of the epoch (default: the upcoming one)");
  batch->add_option("--creator", bo->creator, "creator address (default: the signer)");
  add_tx_options(batch, *bo);
  batch->callback([bo] {
    chain::x::poc::MsgSubmitPocBatch msg;
    msg.set_creator(bo->creator.empty() ? resolve_address(bo->home, bo->from) : bo->creator);
    msg.set_node_id(bo->node_id);
    msg.set_batch_id(bo->batch_id);
    msg.set_poc_stage_start_block_height(bo->poc_start);
    for (auto n : parse_nonce_list(bo->nonces, chain::x::poc::kMaxNoncesPerBatch)) msg.add_nonces(n);
    if (bo->dist.empty()) {
      for (int i = 0; i < msg.nonces_size(); ++i) msg.add_dist(0.0);
    } else {
      size_t i = 0;
      while (i <= bo->dist.size()) {
        size_t j = bo->dist.find(',', i);
        if (j == std::string::npos) j = bo->dist.size();
        msg.add_dist(std::stod(bo->dist.substr(i, j - i)));
        i = j + 1;
      }
    }
    std::exit(sign_and_broadcast(
        *bo, {{std::string(chain::x::poc::kMsgSubmitPocBatchUrl), msg.SerializeAsString()}}));
  });

  auto vo = std::make_shared<ValidationOptions>();
  auto* validation = tx_inf->add_subcommand(
      "submit-poc-validation",
      "your verdict on a participant's PoC batches: submit-poc-validation PARTICIPANT [--fraud]");
  validation->add_option("participant", vo->participant, "participant address or key name")->required();
  validation->add_flag("--fraud", vo->fraud, "fraud detected (default: the batches are valid)");
  validation->add_option("--n-invalid", vo->n_invalid, "invalid nonces in the sample");
  validation->add_option("--sample-size", vo->sample_size, "sampled nonces");
  validation->add_option("--poc-start-height", vo->poc_start,
                         "PoC start height (default: the upcoming epoch)");
  validation->add_option("--creator", vo->creator, "creator address (default: the signer)");
  add_tx_options(validation, *vo);
  validation->callback([vo] {
    chain::x::poc::MsgSubmitPocValidation msg;
    msg.set_creator(vo->creator.empty() ? resolve_address(vo->home, vo->from) : vo->creator);
    msg.set_participant_address(resolve_address(vo->home, vo->participant));
    msg.set_fraud_detected(vo->fraud);
    msg.set_n_invalid(vo->n_invalid);
    msg.set_sample_size(vo->sample_size);
    msg.set_poc_stage_start_block_height(vo->poc_start);
    std::exit(sign_and_broadcast(
        *vo, {{std::string(chain::x::poc::kMsgSubmitPocValidationUrl), msg.SerializeAsString()}}));
  });

  auto so = std::make_shared<SeedOptions>();
  auto* seed = tx_inf->add_subcommand(
      "submit-seed", "submit your seed for the upcoming epoch: submit-seed EPOCH SIGNATURE_HEX");
  seed->add_option("epoch", so->epoch, "upcoming epoch index")->required();
  seed->add_option("signature", so->signature_hex, "seed signature, hex")->required();
  add_tx_options(seed, *so);
  seed->callback([so] {
    auto sig = common::from_hex(so->signature_hex);
    if (!sig) throw std::runtime_error("signature must be hex");
    chain::x::poc::MsgSubmitSeed msg;
    msg.set_creator(resolve_address(so->home, so->from));
    msg.set_epoch_index(so->epoch);
    msg.set_signature(*sig);
    std::exit(
        sign_and_broadcast(*so, {{std::string(chain::x::poc::kMsgSubmitSeedUrl), msg.SerializeAsString()}}));
  });

  auto* q_inf = subgroup(tree.query, "inference", "inference module queries");
  query_path(
      q_inf, "epoch", "current epoch, phase and stage heights",
      [](const auto&) { return std::string("/inference/epoch"); }, 0, 0);
  query_path(
      q_inf, "epoch-params", "governance epoch params (apply from the next epoch)",
      [](const auto&) { return std::string("/inference/epoch-params"); }, 0, 0);
  query_path(
      q_inf, "epochs", "one epoch record: epochs INDEX",
      [](const auto& a) { return "/inference/epochs/" + a[0]; }, 1, 1);
  query_path(
      q_inf, "epoch-group", "epoch group: epoch-group current|upcoming|EPOCH [MODEL_ID]",
      [](const auto& a) { return "/inference/epoch-groups/" + a[0] + (a.size() > 1 ? "/" + a[1] : ""); }, 1,
      2);
  query_path(
      q_inf, "poc-batches", "PoC batches: poc-batches EPOCH [PARTICIPANT [NODE_ID]]",
      [](const auto& a) {
        std::string p = "/inference/poc-batches/" + a[0];
        for (size_t i = 1; i < a.size(); ++i) p += "/" + a[i];
        return p;
      },
      1, 3);
  query_path(
      q_inf, "poc-validations", "PoC validations of an epoch: poc-validations EPOCH",
      [](const auto& a) { return "/inference/poc-validations/" + a[0]; }, 1, 1);
}

}  // namespace node::cli
