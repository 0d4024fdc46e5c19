// Helper of bench/abci_tps.py: deterministic funded accounts and pre-signed bank sends, so the benchmark measures
// the chain and not the signing client.
//   abci_txgen CHAIN_ID ACCOUNTS TXS_PER_ACCOUNT
// Prints one JSON object: {"addresses": [...], "txs": [[base64 tx of account i, sequence 0..], ...]}.
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

#include "chain/types/address.h"
#include "chain/x/bank/bank.h"
#include "common/bytes.h"
#include "common/hash.h"
#include "common/secp256k1.h"
#include "common/tx/tx_codec.h"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s CHAIN_ID ACCOUNTS TXS_PER_ACCOUNT\n", argv[0]);
    return 2;
  }
  const std::string chain_id = argv[1];
  const int accounts = std::atoi(argv[2]);
  const int per_account = std::atoi(argv[3]);
  std::vector<common::secp256k1::PrivateKey> keys;
  nlohmann::json addresses = nlohmann::json::array();
  for (int i = 0; i < accounts; ++i) {
    keys.push_back(*common::secp256k1::private_key_from_bytes(common::sha256("abci bench account " + std::to_string(i))));
    addresses.push_back(
        chain::types::to_bech32("gonka", chain::types::address_from_public_key(common::secp256k1::public_key(keys[i]))));
  }
  nlohmann::json txs = nlohmann::json::array();
  for (int i = 0; i < accounts; ++i) {
    nlohmann::json mine = nlohmann::json::array();
    for (int seq = 0; seq < per_account; ++seq) {
      inference::bank::MsgSend msg;
      msg.set_from_address(addresses[i].get<std::string>());
      msg.set_to_address(addresses[(i + 1) % accounts].get<std::string>());
      auto* c = msg.add_amount();
      c->set_denom("nicoin");
      c->set_amount("1");
      mine.push_back(common::to_base64(
          common::tx::build_signed_tx({{std::string(chain::x::bank::kMsgSendUrl), msg.SerializeAsString()}},
                                      "", 0, keys[i], static_cast<uint64_t>(seq), chain_id)));
    }
    txs.push_back(std::move(mine));
  }
  std::cout << nlohmann::json{{"addresses", addresses}, {"txs", txs}}.dump() << std::endl;
  return 0;
}
