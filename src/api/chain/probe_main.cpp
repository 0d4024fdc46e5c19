// chain_client_probe: drives a running inferenced through api_chain only, for the functional test
// tests/functional/api_chain_client.py. Reads the signer's private key (hex) from stdin, follows blocks,
// sends two bank transfers back to back (one local sequence), waits for both, and prints one JSON summary.
//   chain_client_probe NODE_URL TO_ADDRESS AMOUNT_NICOIN
#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "api/chain/block_follower.h"
#include "api/chain/chain_client.h"
#include "api/chain/tx_sender.h"
#include "common/bytes.h"
#include "inference/bank.pb.h"

namespace {

using api::chain::Block;
using nlohmann::json;

[[noreturn]] void fail(const std::string& what, const common::Error& e) {
  std::cerr << what << ": " << e.message << " (code " << e.code << ")" << std::endl;
  std::exit(1);
}

template <class T>
T value_or_fail(common::Result<T> r, const std::string& what) {
  if (!r) fail(what, r.error());
  return std::move(r).value();
}

common::tx::TxMessage bank_send(const std::string& from, const std::string& to, uint64_t amount) {
  inference::bank::MsgSend msg;
  msg.set_from_address(from);
  msg.set_to_address(to);
  auto* coin = msg.add_amount();
  coin->set_denom("nicoin");
  coin->set_amount(std::to_string(amount));
  return {"/inference.bank.MsgSend", msg.SerializeAsString()};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: chain_client_probe NODE_URL TO_ADDRESS AMOUNT_NICOIN  (private key hex on stdin)\n";
    return 2;
  }
  const std::string node = argv[1], to = argv[2];
  const uint64_t amount = std::stoull(argv[3]);
  std::string key_hex;
  std::getline(std::cin, key_hex);
  auto key_bytes = common::from_hex(key_hex);
  auto key = key_bytes ? common::secp256k1::private_key_from_bytes(*key_bytes) : std::nullopt;
  if (!key) fail("stdin", common::make_error(1, "expected a 32-byte secp256k1 private key in hex"));

  api::chain::ChainClient client(node);
  auto status = value_or_fail(client.status(), "status");

  std::mutex mu;
  std::vector<Block> blocks;
  api::chain::BlockFollower follower(node, status.height + 1, [&](const Block& b) {
    std::lock_guard lock(mu);
    blocks.push_back(b);
  });
  follower.start();

  api::chain::TxSender sender(client, *key, status.chain_id);
  uint64_t before = value_or_fail(client.balance(to, "nicoin"), "balance before");
  auto first = value_or_fail(sender.broadcast({bank_send(sender.address(), to, amount)}), "broadcast 1");
  auto second = value_or_fail(sender.broadcast({bank_send(sender.address(), to, amount)}), "broadcast 2");
  auto first_result = value_or_fail(sender.wait_for_inclusion(first.txhash), "inclusion 1");
  auto second_result = value_or_fail(sender.wait_for_inclusion(second.txhash), "inclusion 2");
  uint64_t after = value_or_fail(client.balance(to, "nicoin"), "balance after");

  uint64_t last_tx_height = std::max(first_result.height, second_result.height);
  for (int i = 0; i < 300 && follower.last_delivered_height() < last_tx_height; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  follower.stop();

  json heights = json::array(), seen = json::array();
  for (const auto& b : blocks) {
    heights.push_back(b.height);
    for (const auto& t : b.txs) seen.push_back(t.hash);
  }
  auto epoch = value_or_fail(client.epoch(), "epoch");
  auto version = value_or_fail(client.mlnode_version(), "mlnode version");
  auto models = value_or_fail(client.governance_models(), "governance models");
  auto account = value_or_fail(client.account(sender.address()), "account");
  std::cout << json{{"chain_id", status.chain_id},
                    {"start_height", status.height},
                    {"sender", sender.address()},
                    {"tx_hashes", {first.txhash, second.txhash}},
                    {"tx_codes", {first_result.code, second_result.code}},
                    {"tx_heights", {first_result.height, second_result.height}},
                    {"followed_heights", heights},
                    {"followed_tx_hashes", seen},
                    {"last_delivered_height", follower.last_delivered_height()},
                    {"balance_before", before},
                    {"balance_after", after},
                    {"sender_sequence", account.sequence},
                    {"epoch_phase", epoch.phase},
                    {"mlnode_version", version.current_mlnode_version},
                    {"governance_models", models.size()}}
                   .dump()
            << std::endl;
  return 0;
}
