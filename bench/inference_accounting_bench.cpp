// Inference accounting at block scale (issue 6, must-show 3). 1,000 participants (one 7B MLNode each) form epoch 1
// through the real messages; then ONE block of 2,000 MsgStartInference followed by 2,000 MsgFinishInference (every
// finish in the same block as its start) goes through App::finalize_block, and ONE block of 4,000 bank sends from
// the same accounts is the baseline. Prints time per tx and the ratio inference/send (target <= 2x); asserts nothing.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "chain/app/app.h"
#include "chain/store/memory_store.h"
#include "chain/types/address.h"
#include "chain/x/bank/bank.h"
#include "chain/x/epochs/epochs.h"
#include "chain/x/inference/inference.h"
#include "chain/x/nodes/nodes.h"
#include "chain/x/poc/poc.h"
#include "common/ed25519.h"
#include "common/participant_key.h"
#include "common/secp256k1.h"

namespace {
using Clock = std::chrono::steady_clock;
using namespace chain;
constexpr const char* kChainId = "bench-chain";
constexpr const char* kHrp = "gonka";
constexpr const char* k7B = "Qwen/Qwen2.5-7B-Instruct";
constexpr int kParticipants = 1000;
constexpr int kInferences = 2000;

struct Account {
  common::secp256k1::PrivateKey key;
  types::Address address;
  std::string bech32;
  uint64_t sequence = 0;
};

Account make_account(uint32_t i) {
  std::string bytes(32, '\0');
  bytes[0] = 0x21;
  bytes[28] = static_cast<char>(i >> 24);
  bytes[29] = static_cast<char>(i >> 16);
  bytes[30] = static_cast<char>(i >> 8);
  bytes[31] = static_cast<char>(i + 1);
  Account a{*common::secp256k1::private_key_from_bytes(bytes), {}, {}, 0};
  a.address = types::address_from_public_key(common::secp256k1::public_key(a.key));
  a.bech32 = types::to_bech32(kHrp, a.address);
  return a;
}

template <typename Msg>
std::string sign(Account& from, std::string_view url, const Msg& msg) {
  return common::tx::build_signed_tx({{std::string(url), msg.SerializeAsString()}}, "", 0, from.key,
                                     from.sequence++, kChainId);
}

double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

}  // namespace

int main() {
  Account validator = make_account(100000);
  std::vector<Account> accounts;
  for (int i = 0; i < kParticipants; ++i) accounts.push_back(make_account(static_cast<uint32_t>(i)));

  store::MemoryStore store;
  app::App application(store);
  app::Genesis g;
  g.chain_id = kChainId;
  g.address_prefix = kHrp;
  g.validators.push_back({"v", validator.bech32, common::ed25519::from_seed(std::string(32, '\3'))->public_key, 10});
  nlohmann::json balances = nlohmann::json::array();
  for (const auto* a : {&validator}) {
    balances.push_back({{"address", a->bech32}, {"coins", {{{"denom", "nicoin"}, {"amount", "1000000000000"}}}}});
  }
  for (const auto& a : accounts) {
    balances.push_back({{"address", a.bech32}, {"coins", {{{"denom", "nicoin"}, {"amount", "1000000000000"}}}}});
  }
  auto defaults = application.default_app_state("localnet");
  g.app_state = {{"bank", {{"balances", balances}}}, {"models", defaults["models"]}, {"gov", defaults["gov"]}};
  if (!application.init_chain(g)) {
    std::fprintf(stderr, "init_chain failed\n");
    return 1;
  }
  uint64_t height = 0;
  auto block = [&](const std::vector<std::string>& txs) {
    ++height;
    auto r = application.finalize_block(app::BlockInfo{kChainId, height, 1700000000000 + int64_t(height) * 1000,
                                                       std::string(32, 'h'), ""},
                                        txs);
    application.commit();
    size_t failed = 0;
    for (const auto& t : r.tx_results) {
      if (t.code != 0 && failed++ == 0) std::fprintf(stderr, "height %llu: tx failed: %s\n", (unsigned long long)height, t.log.c_str());
    }
    return failed;
  };
  auto until = [&](uint64_t h) {
    while (height + 1 < h) block({});
  };

  // Epoch 1 with 1,000 participants, one 7B node each (localnet: batches at 11, validations at 19, switch at 27).
  std::vector<std::string> txs;
  for (size_t i = 0; i < accounts.size(); ++i) {
    auto& a = accounts[i];
    x::nodes::MsgSubmitNewParticipant p;
    p.set_creator(a.bech32);
    p.set_url("http://p" + std::to_string(i) + ".example:8000");
    std::string seed(32, '\x5a');
    seed[0] = static_cast<char>(i >> 8);
    seed[1] = static_cast<char>(i & 0xff);
    auto key = *common::ed25519::from_seed(seed);
    p.set_validator_public_key(key.public_key);
    p.set_validator_key_signature(common::participant_key::sign(key, kChainId, a.bech32));
    x::nodes::MsgSubmitHardwareDiff d;
    d.set_creator(a.bech32);
    auto* n = d.add_new_or_modified();
    n->set_local_id("n-1");
    n->set_status(inference::inference::HARDWARE_NODE_STATUS_INFERENCE);
    n->add_models(k7B);
    auto* hw = n->add_hardware();
    hw->set_type("NVIDIA H100 80GB");
    hw->set_count(1);
    n->set_host("10.0.0.5");
    n->set_inference_port(8080);
    n->set_poc_port(8081);
    txs.push_back(common::tx::build_signed_tx(
        {{std::string(x::nodes::kMsgSubmitNewParticipantUrl), p.SerializeAsString()},
         {std::string(x::nodes::kMsgSubmitHardwareDiffUrl), d.SerializeAsString()}},
        "", 0, a.key, a.sequence++, kChainId));
  }
  size_t failed = block(txs);
  until(11);
  txs.clear();
  for (auto& a : accounts) {
    x::poc::MsgSubmitPocBatch m;
    m.set_creator(a.bech32);
    m.set_node_id("n-1");
    m.set_batch_id("b1");
    for (uint64_t k = 0; k < 10; ++k) {
      m.add_nonces(k);
      m.add_dist(0.1);
    }
    txs.push_back(sign(a, x::poc::kMsgSubmitPocBatchUrl, m));
  }
  failed += block(txs);
  until(19);
  txs.clear();
  for (auto& a : accounts) {
    x::poc::MsgSubmitPocValidation m;
    m.set_creator(validator.bech32);
    m.set_participant_address(a.bech32);
    m.set_sample_size(10);
    txs.push_back(sign(validator, x::poc::kMsgSubmitPocValidationUrl, m));
  }
  failed += block(txs);
  until(29);
  block({});
  if (failed || x::epochs::effective_epoch_index(store) != 1) {
    std::fprintf(stderr, "setup failed (%zu failed txs, effective epoch %llu)\n", failed,
                 (unsigned long long)x::epochs::effective_epoch_index(store));
    return 1;
  }

  // The measured block: 2,000 starts then their 2,000 finishes (transfer agent i, executor i+1).
  txs.clear();
  for (int i = 0; i < kInferences; ++i) {
    auto& ta = accounts[static_cast<size_t>(i % kParticipants)];
    auto& ex = accounts[static_cast<size_t>((i + 1) % kParticipants)];
    x::infer::MsgStartInference m;
    m.set_creator(ta.bech32);
    m.set_inference_id("inf-" + std::to_string(i));
    m.set_model(k7B);
    m.set_executor(ex.bech32);
    m.set_executor_node("n-1");
    m.set_prompt_hash(std::string(32, 'p'));
    m.set_max_tokens(1000);
    txs.push_back(sign(ta, x::infer::kMsgStartInferenceUrl, m));
  }
  for (int i = 0; i < kInferences; ++i) {
    auto& ex = accounts[static_cast<size_t>((i + 1) % kParticipants)];
    x::infer::MsgFinishInference m;
    m.set_creator(ex.bech32);
    m.set_inference_id("inf-" + std::to_string(i));
    m.set_prompt_tokens(100);
    m.set_completion_tokens(200);
    m.set_response_hash(std::string(32, 'r'));
    txs.push_back(sign(ex, x::infer::kMsgFinishInferenceUrl, m));
  }
  auto t0 = Clock::now();
  size_t inf_failed = block(txs);
  double inf_ms = ms_since(t0);

  // Baseline: 4,000 bank sends from the same accounts in one block.
  txs.clear();
  for (int i = 0; i < 2 * kInferences; ++i) {
    auto& from = accounts[static_cast<size_t>(i % kParticipants)];
    inference::bank::MsgSend m;
    m.set_from_address(from.bech32);
    m.set_to_address(accounts[static_cast<size_t>((i + 7) % kParticipants)].bech32);
    auto* c = m.add_amount();
    c->set_denom("nicoin");
    c->set_amount("1000");
    txs.push_back(sign(from, x::bank::kMsgSendUrl, m));
  }
  t0 = Clock::now();
  size_t send_failed = block(txs);
  double send_ms = ms_since(t0);

  double per_inf = inf_ms * 1000.0 / (2 * kInferences), per_send = send_ms * 1000.0 / (2 * kInferences);
  std::printf("inference_accounting_bench: %d participants\n", kParticipants);
  std::printf("  %d MsgStartInference + %d MsgFinishInference in one block: %.1f ms, %.1f us/tx (%zu failed)\n",
              kInferences, kInferences, inf_ms, per_inf, inf_failed);
  std::printf("  %d bank sends in one block (baseline):                 %.1f ms, %.1f us/tx (%zu failed)\n",
              2 * kInferences, send_ms, per_send, send_failed);
  std::printf("  ratio inference/send per tx: %.2fx (target <= 2x)\n", per_send > 0 ? per_inf / per_send : 0.0);
  return 0;
}
