#include "api/app/tx_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/bytes.h"
#include "common/tx/codes.h"
#include "fake_chain_rpc.h"

namespace api::app {
namespace {

using namespace std::chrono_literals;
using chain::testing::FakeChainRpc;

common::secp256k1::PrivateKey test_key() {
  return *common::secp256k1::private_key_from_bytes(std::string(31, '\0') + "\x09");
}

common::tx::TxMessage msg(const std::string& tag) {
  return {"/test.Msg", tag};
}

// A node that includes every accepted tx at once; a tx holding a message "bad" fails in DeliverTx (code 18),
// "late" with kPocBatchWindowClosed, "dup" with kPocBatchAlreadySubmitted (the chain's codes, not log text).
// While `down`, POST /txs answers 503.
class IncludingNode {
 public:
  IncludingNode(FakeChainRpc& rpc, const std::string& address) : rpc_(rpc) {
    rpc.set("/auth/accounts/" + address, 200, R"({"address":"x","account_number":"1","sequence":"0"})");
    rpc.on_broadcast([this](const net::Request& req) {
      if (down) return net::json_error(503, "unavailable", "node is restarting");
      auto bytes = common::from_base64(nlohmann::json::parse(req.body).at("tx").get<std::string>());
      auto tx = common::tx::decode_tx(*bytes);
      std::vector<std::string> values;
      uint32_t code = 0;
      for (const auto& any : tx->body.messages()) {
        values.push_back(any.value());
        if (code != 0) continue;
        if (any.value() == "bad") code = common::tx::codes::kInvalidRequest;
        if (any.value() == "late") code = common::tx::codes::kPocBatchWindowClosed;
        if (any.value() == "dup") code = common::tx::codes::kPocBatchAlreadySubmitted;
      }
      {
        std::lock_guard lock(mu);
        txs.push_back(values);
      }
      std::string hash = common::tx::tx_hash_hex(*bytes);
      rpc_.set("/txs/" + hash, 200,
               nlohmann::json{{"hash", hash},
                              {"height", 7},
                              {"index", 0},
                              {"code", code},
                              {"log", code != 0 ? "refused: some text dapi must not parse" : ""},
                              {"events", nlohmann::json::array()}}
                   .dump());
      return net::json_response(200, nlohmann::json{{"code", 0}, {"log", ""}, {"txhash", hash}}.dump());
    });
  }
  std::vector<std::vector<std::string>> sent() {
    std::lock_guard lock(mu);
    return txs;
  }
  std::atomic<bool> down{false};

 private:
  FakeChainRpc& rpc_;
  std::mutex mu;
  std::vector<std::vector<std::string>> txs;
};

struct Fixture {
  Fixture() : dir(std::filesystem::temp_directory_path() / ("dapi-txq-" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(dir);
  }
  ~Fixture() { std::filesystem::remove_all(dir); }
  std::filesystem::path dir;
};

template <class Pred>
bool eventually(Pred p) {
  for (int i = 0; i < 300; ++i) {
    if (p()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

TEST(TxQueue, BatchesQueuedMessagesIntoOneTxAndDedupesKeys) {
  Fixture f;
  FakeChainRpc rpc;
  chain::ChainClient client(rpc.url());
  chain::TxSenderOptions so;
  so.inclusion_poll = 5ms;
  chain::TxSender sender(client, test_key(), "t", so);
  IncludingNode node(rpc, sender.address());
  auto store = state::StateStore::open(f.dir.string()).value();
  server::Metrics metrics;
  TxQueue q(*store, sender, metrics);
  std::vector<TxOutcome> outcomes;
  std::mutex mu;
  q.on_result([&](const TxOutcome& o) {
    std::lock_guard lock(mu);
    outcomes.push_back(o);
  });
  ASSERT_EQ(*q.enqueue("poc_batch/1", "poc_batch", msg("a")), TxQueue::Enqueued::kQueued);
  ASSERT_EQ(*q.enqueue("poc_batch/2", "poc_batch", msg("b")), TxQueue::Enqueued::kQueued);
  ASSERT_EQ(*q.enqueue("poc_batch/1", "poc_batch", msg("a")), TxQueue::Enqueued::kDuplicate);
  EXPECT_EQ(q.pending("poc_batch"), 2u);
  q.start();
  ASSERT_TRUE(eventually([&] { return q.pending() == 0; }));
  q.stop();
  EXPECT_EQ(node.sent(), (std::vector<std::vector<std::string>>{{"a", "b"}}));
  EXPECT_EQ(metrics.counter_value("dapi_tx_messages_included_total", {{"kind", "poc_batch"}}), 2u);
  ASSERT_EQ(outcomes.size(), 2u);
  EXPECT_EQ(outcomes[0].height, 7u);
  // A key stays used after the message left the queue: the same batch is never sent twice.
  EXPECT_EQ(*q.enqueue("poc_batch/1", "poc_batch", msg("a")), TxQueue::Enqueued::kDuplicate);
}

TEST(TxQueue, ARefusedMessageIsRetriedAloneAndDroppedWithoutHoldingBackTheOthers) {
  Fixture f;
  FakeChainRpc rpc;
  chain::ChainClient client(rpc.url());
  chain::TxSenderOptions so;
  so.inclusion_poll = 5ms;
  chain::TxSender sender(client, test_key(), "t", so);
  IncludingNode node(rpc, sender.address());
  auto store = state::StateStore::open(f.dir.string()).value();
  server::Metrics metrics;
  TxQueue q(*store, sender, metrics);
  ASSERT_TRUE(q.enqueue("k1", "seed", msg("good")));
  ASSERT_TRUE(q.enqueue("k2", "poc_batch", msg("bad")));
  q.start();
  ASSERT_TRUE(eventually([&] { return q.pending() == 0; }));
  q.stop();
  EXPECT_EQ(node.sent(), (std::vector<std::vector<std::string>>{{"good", "bad"}, {"good"}, {"bad"}}));
  EXPECT_EQ(metrics.counter_value("dapi_tx_failures_total", {{"kind", "poc_batch"}, {"code", "18"}}), 1u);
  EXPECT_EQ(metrics.counter_value("dapi_tx_messages_included_total", {{"kind", "seed"}}), 1u);
}

TEST(TxQueue, ChainAnswersAreClassifiedByCodeAlone) {
  namespace codes = common::tx::codes;
  EXPECT_EQ(classify_chain_code(codes::kOk), ChainAnswer::kIncluded);
  EXPECT_EQ(classify_chain_code(codes::kPocBatchAlreadySubmitted), ChainAnswer::kAlreadyOnChain);
  EXPECT_EQ(classify_chain_code(codes::kSeedAlreadySubmitted), ChainAnswer::kAlreadyOnChain);
  EXPECT_EQ(classify_chain_code(codes::kInferenceFinished), ChainAnswer::kAlreadyOnChain);
  for (uint32_t c : {codes::kWrongSequence, codes::kMempoolFull, codes::kTxInMempoolCache, codes::kInternal,
                     chain::kTransportError, chain::kTimeoutError, chain::kMalformedAnswer, 404u, 503u}) {
    EXPECT_EQ(classify_chain_code(c), ChainAnswer::kRetry) << c;
  }
  for (uint32_t c :
       {codes::kInvalidRequest, codes::kUnauthorized, codes::kPocBatchWindowClosed,
        codes::kPocValidationWindowClosed, codes::kSeedWindowClosed, codes::kPocNodeBatchLimit}) {
    EXPECT_EQ(classify_chain_code(c), ChainAnswer::kRefused) << c;
  }
}

TEST(TxQueue, AMessageAlreadyOnChainIsSettledAndALateOneDroppedByTheirCodes) {
  Fixture f;
  FakeChainRpc rpc;
  chain::ChainClient client(rpc.url());
  chain::TxSenderOptions so;
  so.inclusion_poll = 5ms;
  chain::TxSender sender(client, test_key(), "t", so);
  IncludingNode node(rpc, sender.address());
  auto store = state::StateStore::open(f.dir.string()).value();
  server::Metrics metrics;
  TxQueue q(*store, sender, metrics);
  std::map<std::string, TxOutcome> outcomes;
  std::mutex mu;
  q.on_result([&](const TxOutcome& o) {
    std::lock_guard lock(mu);
    outcomes[o.idempotency_key] = o;
  });
  ASSERT_TRUE(q.enqueue("poc_batch/1", "poc_batch", msg("dup")));
  ASSERT_TRUE(q.enqueue("poc_batch/2", "poc_batch", msg("late")));
  q.start();
  ASSERT_TRUE(eventually([&] { return q.pending() == 0; }));
  q.stop();
  EXPECT_EQ(metrics.counter_value("dapi_tx_messages_already_on_chain_total", {{"kind", "poc_batch"}}), 1u);
  EXPECT_EQ(metrics.counter_value("dapi_tx_failures_total", {{"kind", "poc_batch"}, {"code", "1304"}}), 1u);
  EXPECT_EQ(metrics.counter_value("dapi_tx_failures_total", {{"kind", "poc_batch"}, {"code", "1305"}}), 0u);
  std::lock_guard lock(mu);
  ASSERT_EQ(outcomes.size(), 2u);
  EXPECT_TRUE(outcomes["poc_batch/1"].on_chain);
  EXPECT_EQ(outcomes["poc_batch/1"].code, common::tx::codes::kPocBatchAlreadySubmitted);
  EXPECT_FALSE(outcomes["poc_batch/2"].on_chain);
  EXPECT_EQ(outcomes["poc_batch/2"].code, common::tx::codes::kPocBatchWindowClosed);
}

TEST(TxQueue, TransportFailuresKeepMessagesQueuedAcrossARestart) {
  Fixture f;
  FakeChainRpc rpc;
  chain::ChainClient client(rpc.url());
  chain::TxSenderOptions so;
  so.inclusion_poll = 5ms;
  chain::TxSender sender(client, test_key(), "t", so);
  IncludingNode node(rpc, sender.address());
  node.down = true;
  server::Metrics metrics;
  {
    auto store = state::StateStore::open(f.dir.string()).value();
    TxQueueOptions o;
    o.retry_delay = 10ms;
    TxQueue q(*store, sender, metrics, o);
    ASSERT_TRUE(q.enqueue("seed/3", "seed", msg("s")));
    q.start();
    ASSERT_TRUE(eventually([&] { return metrics.counter_value("dapi_tx_retries_total") >= 2; }));
    q.stop();
    EXPECT_EQ(q.pending(), 1u);
  }
  node.down = false;
  auto store = state::StateStore::open(f.dir.string()).value();
  TxQueue q(*store, sender, metrics);
  EXPECT_EQ(q.pending("seed"), 1u);
  EXPECT_EQ(*q.enqueue("seed/3", "seed", msg("s")), TxQueue::Enqueued::kDuplicate);
  q.start();
  ASSERT_TRUE(eventually([&] { return q.pending() == 0; }));
  q.stop();
  EXPECT_EQ(node.sent(), (std::vector<std::vector<std::string>>{{"s"}}));
}

TEST(TxQueue, ATxIncludedBeforeACrashSettlesItsMessagesWithoutSendingThemAgain) {
  Fixture f;
  FakeChainRpc rpc;
  chain::ChainClient client(rpc.url());
  chain::TxSenderOptions so;
  so.inclusion_poll = 5ms;
  chain::TxSender sender(client, test_key(), "t", so);
  IncludingNode node(rpc, sender.address());
  server::Metrics metrics;
  {
    auto store = state::StateStore::open(f.dir.string()).value();
    TxQueue q(*store, sender, metrics, {}, &client);
    ASSERT_TRUE(q.enqueue("poc_batch/x", "poc_batch", msg("x")));
    // What a crash right after the broadcast leaves: the hash recorded, the message still queued.
    ASSERT_TRUE(
        store->write(state::WriteSet().put(state::keys::tx_in_flight(), R"({"hash":"ABC","seqs":[1]})")));
  }
  rpc.set("/txs/ABC", 200, R"({"hash":"ABC","height":9,"index":0,"code":0,"log":"","events":[]})");
  auto store = state::StateStore::open(f.dir.string()).value();
  TxQueue q(*store, sender, metrics, {}, &client);
  q.start();
  ASSERT_TRUE(eventually([&] { return q.pending() == 0; }));
  q.stop();
  EXPECT_TRUE(node.sent().empty());
  EXPECT_EQ(metrics.counter_value("dapi_tx_messages_included_total", {{"kind", "poc_batch"}}), 1u);
  EXPECT_FALSE(store->has(state::keys::tx_in_flight()));
}

}  // namespace
}  // namespace api::app
