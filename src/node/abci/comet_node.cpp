#include "node/abci/comet_node.h"

#include <mutex>
#include <thread>

#include <spdlog/spdlog.h>

#include "chain/types/codes.h"
#include "common/bytes.h"
#include "common/json_text.h"
#include "node/abci/app_handler.h"
#include "node/abci/server.h"
#include "node/block_store.h"

namespace node::abci {

namespace {

class ChainHooks final : public NodeHooks {
 public:
  explicit ChainHooks(ChainNode& chain) : chain_(chain) {}
  chain::store::WriteSet block_records(const FinalizedBlock& block) override {
    BlockHeaderInfo header{block.info.chain_id,        block.info.height,   block.info.time_unix_ms,
                           block.info.last_block_hash, block.info.proposer, block.hash};
    return block_aux_records(make_block_record(header, block.txs, block.result));
  }
  void block_committed(const FinalizedBlock&, const chain::store::CommitInfo&) override {
    chain_.notify_committed();
  }

 private:
  ChainNode& chain_;
};

}  // namespace

struct CometNode::Impl {
  Impl(ChainNode& c, CometOptions o)
      : chain(c),
        options(std::move(o)),
        hooks(c),
        handler(c.app(), c.store(), c.app_mutex(), &hooks,
                AppHandlerOptions{c.genesis(), options.version, 1}) {}

  ChainNode& chain;
  CometOptions options;
  ChainHooks hooks;
  AppHandler handler;
  std::unique_ptr<Server> server;
  mutable std::mutex mu;
  std::string failure;
};

CometNode::CometNode(ChainNode& chain, CometOptions options)
    : impl_(std::make_unique<Impl>(chain, std::move(options))) {}

CometNode::~CometNode() {
  stop();
}

void CometNode::start() {
  ServerOptions so;
  so.address = impl_->options.abci_address;
  so.on_fatal = [impl = impl_.get()](const std::string& reason) {
    std::lock_guard lock(impl->mu);
    impl->failure = reason;
    impl->chain.notify_committed();  // wake RPC waiters so they notice the shutdown quickly
  };
  impl_->server = std::make_unique<Server>(impl_->handler, so);
  impl_->server->start();
  auto info = impl_->chain.app().info();
  spdlog::info("CometBFT mode: waiting for CometBFT on {} (app at height {}); transactions go to {}",
               impl_->server->address(), info.height, impl_->options.comet_rpc);
}

void CometNode::stop() {
  if (impl_->server) impl_->server->stop();
}

std::string CometNode::abci_address() const {
  return impl_->server ? impl_->server->address() : "";
}

std::string CometNode::failure() const {
  std::lock_guard lock(impl_->mu);
  return impl_->failure;
}

SubmitResult CometNode::submit_tx(const std::string& tx) const {
  const auto& o = impl_->options;
  std::string hash = common::tx::tx_hash_hex(tx);
  // Stateless and cheap: refuse what the app would refuse anyway before paying for the round trip.
  const uint64_t max = impl_->chain.genesis().max_tx_bytes;
  if (tx.size() > max) {
    return SubmitResult{
        chain::codes::kTxTooLarge,
        "tx too large: " + std::to_string(tx.size()) + " bytes, the limit is " + std::to_string(max), hash};
  }
  nlohmann::json request{{"jsonrpc", "2.0"},
                         {"id", 1},
                         {"method", "broadcast_tx_sync"},
                         {"params", {{"tx", common::to_base64(tx)}}}};
  std::string url = o.comet_rpc;
  if (url.empty() || url.back() != '/') url += '/';
  net::ClientResult answer;
  // Retry only when the request never reached CometBFT (connection refused while it restarts).
  for (int attempt = 0; attempt < 3; ++attempt) {
    answer = net::Client::post_json(url, common::json_dump(request), o.broadcast_timeout);
    if (answer.ok() || answer.error->message.find("refused") == std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200 * (attempt + 1)));
  }
  return submit_result_from_broadcast(answer, hash, o.comet_rpc);
}

}  // namespace node::abci
