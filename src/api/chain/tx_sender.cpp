#include "api/chain/tx_sender.h"

#include <thread>

#include "common/bech32.h"
#include "common/hash.h"
#include "common/tx/codes.h"

namespace api::chain {

TxSender::TxSender(const ChainClient& client, common::secp256k1::PrivateKey key, std::string chain_id,
                   TxSenderOptions options)
    : client_(client), key_(std::move(key)), chain_id_(std::move(chain_id)), options_(std::move(options)) {
  address_ = common::bech32::encode(options_.address_prefix,
                                    common::ripemd160(common::sha256(common::secp256k1::public_key(key_))));
}

common::Status TxSender::sync_sequence() {
  auto account = client_.account(address_);
  if (!account) {
    return common::make_error(account.error().code,
                              "cannot read the sequence of " + address_ +
                                  " (it needs funds before it can sign): " + account.error().message);
  }
  sequence_ = account->sequence;
  return {};
}

common::Result<BroadcastResult> TxSender::sign_and_post(const std::vector<common::tx::TxMessage>& messages,
                                                        const std::string& memo) {
  if (!sequence_) TRY_STATUS(sync_sequence());
  std::string tx = common::tx::build_signed_tx(messages, memo, 0, key_, *sequence_, chain_id_);
  auto sent = client_.broadcast(tx);
  if (!sent) {
    sequence_.reset();  // the node may or may not have taken it: ask the chain next time
    return sent.error();
  }
  if (sent->code == 0) ++*sequence_;
  return sent;
}

common::Result<BroadcastResult> TxSender::broadcast(const std::vector<common::tx::TxMessage>& messages,
                                                    const std::string& memo) {
  std::lock_guard lock(mu_);
  auto sent = sign_and_post(messages, memo);
  if (sent && sent->code == common::tx::codes::kWrongSequence) {
    TRY_STATUS(sync_sequence());
    sent = sign_and_post(messages, memo);
  }
  if (!sent) return sent.error();
  if (sent->code != 0) return common::make_error(sent->code, "tx refused by the node: " + sent->log);
  return sent;
}

common::Result<TxResult> TxSender::send_and_wait(const std::vector<common::tx::TxMessage>& messages,
                                                 const std::string& memo) {
  auto sent = broadcast(messages, memo);
  if (!sent) return sent.error();
  return wait_for_inclusion(sent->txhash);
}

common::Result<TxResult> TxSender::wait_for_inclusion(const std::string& hash) const {
  auto deadline = std::chrono::steady_clock::now() + options_.inclusion_timeout;
  while (true) {
    auto found = client_.tx(hash);
    if (found || found.error().code != 404) return found;
    if (std::chrono::steady_clock::now() >= deadline) {
      return common::make_error(kTimeoutError, "tx " + hash + " was accepted but is not in a block after " +
                                                   std::to_string(options_.inclusion_timeout.count()) +
                                                   " ms");
    }
    std::this_thread::sleep_for(options_.inclusion_poll);
  }
}

}  // namespace api::chain
