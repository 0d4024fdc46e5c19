// inferenced tx inference start-inference|finish-inference|sign-request and
// inferenced query inference executor|inference|inference-counts|poc-slots|throughput (docs/schedule.md).
#include "chain/types/address.h"
#include "chain/x/inference/inference.h"
#include "chain/x/schedule/schedule.h"
#include "common/bytes.h"
#include "common/hash.h"
#include "common/requester_signature.h"
#include "net/uri.h"
#include "node/cli/client.h"
#include "node/cli/commands.h"
#include "node/cli/model_flags.h"
#include "node/home.h"
#include "node/keyring.h"

#include <chrono>
#include <fstream>
#include <iostream>
#include <iterator>

namespace node::cli {

namespace {

struct StartInferenceOptions : TxOptions {
  std::string id, model, executor, node, prompt, prompt_hash_hex, requester, requester_signature_hex,
      request_hash_hex;
  uint64_t max_tokens = 0, request_timestamp_ms = 0;
};
struct FinishOptions : TxOptions {
  std::string id, response, response_hash_hex;
  uint64_t prompt_tokens = 0, completion_tokens = 0;
};

std::string hash_arg(const std::string& hex, const std::string& text, const char* what) {
  if (!hex.empty()) {
    auto b = common::from_hex(hex);
    if (!b) throw std::runtime_error(std::string(what) + " must be hex");
    return *b;
  }
  return common::sha256(text);
}

}  // namespace

void register_inference_accounting(CommandTree& tree) {
  auto* tx_inf = subgroup(tree.tx, "inference", "inference module transactions");

  auto so = std::make_shared<StartInferenceOptions>();
  auto* start = tx_inf->add_subcommand(
      "start-inference",
      "as transfer agent, start an inference and escrow its maximum cost from the requester: "
      "start-inference ID MODEL EXECUTOR NODE_ID --max-tokens N [--prompt TEXT | --prompt-hash HEX]");
  start->add_option("inference_id", so->id, "new inference id")->required();
  start->add_option("model", so->model, "model id")->required();
  start->add_option("executor", so->executor, "executor participant (address or key name)")->required();
  start->add_option("node_id", so->node, "executor's MLNode local id")->required();
  start->add_option("--max-tokens", so->max_tokens, "bound on prompt + completion tokens")->required();
  start->add_option("--prompt", so->prompt, "prompt text (only its SHA-256 goes on chain)");
  start->add_option("--prompt-hash", so->prompt_hash_hex, "prompt hash, hex");
  start->add_option("--requester", so->requester, "requester (default: the signer)");
  start->add_option("--requester-signature", so->requester_signature_hex,
                    "requester's signature, hex (if not the signer)");
  start->add_option("--request-hash", so->request_hash_hex,
                    "SHA-256 of the body the requester signed, hex (with --requester-signature)");
  start->add_option("--request-timestamp-ms", so->request_timestamp_ms,
                    "the requester's signed timestamp (with --requester-signature)");
  add_tx_options(start, *so);
  start->callback([so] {
    chain::x::infer::MsgStartInference msg;
    msg.set_creator(resolve_address(so->home, so->from));
    msg.set_inference_id(so->id);
    msg.set_model(so->model);
    msg.set_executor(resolve_address(so->home, so->executor));
    msg.set_executor_node(so->node);
    msg.set_max_tokens(so->max_tokens);
    msg.set_prompt_hash(hash_arg(so->prompt_hash_hex, so->prompt, "--prompt-hash"));
    if (!so->requester.empty()) msg.set_requester(resolve_address(so->home, so->requester));
    if (!so->requester_signature_hex.empty()) {
      auto sig = common::from_hex(so->requester_signature_hex);
      if (!sig) throw std::runtime_error("--requester-signature must be hex");
      msg.set_requester_signature(*sig);
      auto hash = common::from_hex(so->request_hash_hex);
      if (!hash || hash->size() != 32) throw std::runtime_error("--request-hash must be 64 hex digits");
      msg.set_request_hash(*hash);
      msg.set_request_timestamp_ms(so->request_timestamp_ms);
    }
    std::exit(sign_and_broadcast(
        *so, {{std::string(chain::x::infer::kMsgStartInferenceUrl), msg.SerializeAsString()}}));
  });

  auto fo = std::make_shared<FinishOptions>();
  auto* finish = tx_inf->add_subcommand("finish-inference",
                                        "as executor, finish an inference and get paid: finish-inference ID "
                                        "--prompt-tokens N --completion-tokens M");
  finish->add_option("inference_id", fo->id, "inference id")->required();
  finish->add_option("--prompt-tokens", fo->prompt_tokens, "prompt tokens")->required();
  finish->add_option("--completion-tokens", fo->completion_tokens, "completion tokens")->required();
  finish->add_option("--response", fo->response, "response text (only its SHA-256 goes on chain)");
  finish->add_option("--response-hash", fo->response_hash_hex, "response hash, hex");
  add_tx_options(finish, *fo);
  finish->callback([fo] {
    chain::x::infer::MsgFinishInference msg;
    msg.set_creator(resolve_address(fo->home, fo->from));
    msg.set_inference_id(fo->id);
    msg.set_prompt_tokens(fo->prompt_tokens);
    msg.set_completion_tokens(fo->completion_tokens);
    msg.set_response_hash(hash_arg(fo->response_hash_hex, fo->response, "--response-hash"));
    std::exit(sign_and_broadcast(
        *fo, {{std::string(chain::x::infer::kMsgFinishInferenceUrl), msg.SerializeAsString()}}));
  });

  struct ValidateOptions : TxOptions {
    std::string id, verdict;
  };
  auto vo = std::make_shared<ValidateOptions>();
  auto* validate = tx_inf->add_subcommand(
      "validate-inference",
      "as another participant, report the re-run of a sampled inference: validate-inference ID valid|invalid "
      "(docs/inference-validation.md)");
  validate->add_option("inference_id", vo->id, "inference id")->required();
  validate->add_option("verdict", vo->verdict, "valid or invalid")
      ->required()
      ->check(CLI::IsMember({"valid", "invalid"}));
  add_tx_options(validate, *vo);
  validate->callback([vo] {
    chain::x::infer::MsgValidateInference msg;
    msg.set_creator(resolve_address(vo->home, vo->from));
    msg.set_inference_id(vo->id);
    msg.set_valid(vo->verdict == "valid");
    std::exit(sign_and_broadcast(
        *vo, {{std::string(chain::x::infer::kMsgValidateInferenceUrl), msg.SerializeAsString()}}));
  });

  // A requester signs an inference request for a transfer agent (docs/requester-signature.md). Nothing is
  // broadcast: it prints the HTTP headers to send with the body to that transfer agent's dapi.
  struct SignRequestOptions : ClientOptions {
    std::string from, body_file, transfer_agent, chain_id;
    int64_t timestamp_ms = -1;
  };
  auto sr = std::make_shared<SignRequestOptions>();
  auto* sign_request = tx_inf->add_subcommand(
      "sign-request",
      "as a requester, sign an inference request body for a transfer agent and print the headers: "
      "sign-request --from KEY --body FILE --transfer-agent ADDRESS [--chain-id ID] [--timestamp-ms MS]");
  sign_request->add_option("--from", sr->from, "requester key name or address in the keyring")->required();
  sign_request->add_option("--body", sr->body_file, "file holding the exact HTTP body to send ('-': stdin)")
      ->required();
  sign_request->add_option("--transfer-agent", sr->transfer_agent, "bech32 address of the dapi's participant")
      ->required();
  sign_request->add_option("--chain-id", sr->chain_id, "chain id (default: asked from --node /status)");
  sign_request->add_option("--timestamp-ms", sr->timestamp_ms, "unix time in ms (default: now)");
  add_client_options(sign_request, *sr);
  sign_request->callback([sr] {
    std::string hrp = address_prefix(sr->home);
    if (!chain::types::parse_address(hrp, sr->transfer_agent)) {
      throw std::runtime_error("--transfer-agent must be a bech32 \"" + hrp + "1...\" address, got \"" +
                               sr->transfer_agent + "\"");
    }
    std::string body;
    if (sr->body_file == "-") {
      body.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    } else {
      std::ifstream in(sr->body_file, std::ios::binary);
      if (!in) throw std::runtime_error("cannot read --body " + sr->body_file);
      body.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    std::string chain_id = sr->chain_id;
    if (chain_id.empty()) {
      auto status = NodeClient(*sr).get("/status");
      if (!status) throw std::runtime_error("cannot ask the chain id: " + status.error().message);
      chain_id = (*status)["chain_id"].get<std::string>();
    }
    int64_t ts = sr->timestamp_ms;
    if (ts < 0) {
      ts = std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
               .count();
    }
    Keyring keyring(Home{sr->home}.keyring_file(), hrp);
    auto key = keyring.private_key(sr->from);
    std::string address = keyring.find(sr->from)->address;
    std::string body_hash = common::sha256(body);
    std::string sig = common::requester_signature::sign(key, chain_id, sr->transfer_agent,
                                                        static_cast<uint64_t>(ts), body_hash);
    namespace rs = common::requester_signature;
    print_json({{"headers",
                 {{std::string(rs::kHeaderRequester), address},
                  {std::string(rs::kHeaderTimestamp), std::to_string(ts)},
                  {std::string(rs::kHeaderSignature), common::to_hex(sig)}}},
                {"chain_id", chain_id},
                {"transfer_agent", sr->transfer_agent},
                {"body_sha256", common::to_hex(body_hash)}});
  });

  auto* q_inf = subgroup(tree.query, "inference", "inference module queries");
  struct ExecutorOptions : ClientOptions {
    std::string model, seed;
  };
  auto eo = std::make_shared<ExecutorOptions>();
  auto* executor =
      q_inf->add_subcommand("executor", "random executor for a model: executor --model ID [--seed S]");
  executor->add_option("--model", eo->model, "model id")->required();
  executor->add_option("--seed", eo->seed, "seed (default: the committed height)");
  add_client_options(executor, *eo);
  executor->callback([eo] {
    std::string path = "/inference/executor?model=" + net::percent_encode(eo->model);
    if (!eo->seed.empty()) path += "&seed=" + net::percent_encode(eo->seed);
    get_and_print(*eo, path);
  });

  struct PathOptions : ClientOptions {
    std::vector<std::string> args;
  };
  auto add_path = [&](const std::string& name, const std::string& help, size_t n,
                      std::function<std::string(const std::vector<std::string>&)> path) {
    auto o = std::make_shared<PathOptions>();
    auto* cmd = q_inf->add_subcommand(name, help);
    cmd->add_option("args", o->args, "arguments")->expected(static_cast<int>(n))->required();
    add_client_options(cmd, *o);
    cmd->callback([o, path] { get_and_print(*o, path(o->args)); });
  };
  add_path("inference", "one inference: inference ID", 1,
           [](const auto& a) { return "/inference/inferences/" + net::percent_encode(a[0]); });
  add_path("inference-counts", "tokens/started/finished of a model: inference-counts MODEL_ID", 1,
           [](const auto& a) { return "/inference/inference-counts/" + net::percent_encode(a[0]); });
  add_path("poc-slots", "POC_SLOT nodes selected in an epoch: poc-slots EPOCH", 1,
           [](const auto& a) { return "/inference/poc-slots/" + a[0]; });
}

}  // namespace node::cli
