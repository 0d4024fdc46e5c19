// Signs and broadcasts dapi's transactions (docs/transactions.md) through ChainClient. Keeps the account's
// next sequence locally so several txs fit in one block, and resyncs it from the chain after a sequence
// mismatch (code 32). Thread-safe: one tx is signed and broadcast at a time.
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "api/chain/chain_client.h"
#include "common/secp256k1.h"
#include "common/tx/tx_codec.h"

namespace api::chain {

struct TxSenderOptions {
  std::string address_prefix = "gonka";  // bech32 hrp of the chain's addresses
  std::chrono::milliseconds inclusion_timeout{30000};
  std::chrono::milliseconds inclusion_poll{100};
};

class TxSender {
 public:
  TxSender(const ChainClient& client, common::secp256k1::PrivateKey key, std::string chain_id,
           TxSenderOptions options = {});

  // The signer's bech32 address.
  const std::string& address() const { return address_; }

  // Signs with the next sequence and broadcasts. A non-zero CheckTx code is an error with that code and the
  // chain's log; code 32 first resyncs the sequence and tries once more.
  common::Result<BroadcastResult> broadcast(const std::vector<common::tx::TxMessage>& messages,
                                            const std::string& memo = "");
  // broadcast, then waits until the tx is in a block; the result carries the DeliverTx code (check it).
  common::Result<TxResult> send_and_wait(const std::vector<common::tx::TxMessage>& messages,
                                         const std::string& memo = "");
  // Waits until `hash` is in a committed block; error kTimeoutError after options.inclusion_timeout.
  common::Result<TxResult> wait_for_inclusion(const std::string& hash) const;

 private:
  common::Result<BroadcastResult> sign_and_post(const std::vector<common::tx::TxMessage>& messages,
                                                const std::string& memo);
  common::Status sync_sequence();

  const ChainClient& client_;
  common::secp256k1::PrivateKey key_;
  std::string chain_id_;
  TxSenderOptions options_;
  std::string address_;
  std::mutex mu_;
  std::optional<uint64_t> sequence_;  // next sequence; unknown until read from the chain
};

}  // namespace api::chain
