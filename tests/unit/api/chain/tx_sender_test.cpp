#include "api/chain/tx_sender.h"

#include <gtest/gtest.h>

#include <atomic>

#include <nlohmann/json.hpp>

#include "common/bytes.h"
#include "common/tx/codes.h"
#include "fake_chain_rpc.h"

namespace api::chain {
namespace {

using namespace std::chrono_literals;
using testing::FakeChainRpc;

common::secp256k1::PrivateKey test_key() {
  return *common::secp256k1::private_key_from_bytes(std::string(31, '\0') + "\x07");
}

// A node whose account sequence is `chain_sequence`: CheckTx accepts exactly that sequence and bumps it.
class SequenceCheckingNode {
 public:
  explicit SequenceCheckingNode(FakeChainRpc& rpc, const std::string& address, uint64_t chain_sequence)
      : chain_sequence_(chain_sequence) {
    rpc.on_broadcast([this](const net::Request& req) {
      auto bytes = common::from_base64(nlohmann::json::parse(req.body).at("tx").get<std::string>());
      auto tx = common::tx::decode_tx(*bytes);
      uint64_t seq = tx->tx.auth_info().sequence();
      signed_with.push_back(seq);
      bool ok = common::secp256k1::verify(tx->tx.auth_info().public_key(),
                                          common::tx::sign_hash("t", tx->tx.body(), seq), tx->tx.signature());
      uint32_t code = !ok                      ? common::tx::codes::kUnauthorized
                      : seq != chain_sequence_ ? common::tx::codes::kWrongSequence
                                               : 0;
      if (code == 0) ++chain_sequence_;
      return net::json_response(200, nlohmann::json{{"code", code},
                                                    {"log", code ? "sequence mismatch" : ""},
                                                    {"txhash", common::tx::tx_hash_hex(*bytes)}}
                                         .dump());
    });
    rpc_ = &rpc;
    path_ = "/auth/accounts/" + address;
  }
  // What GET /auth/accounts answers.
  void publish(uint64_t sequence) {
    rpc_->set(
        path_, 200,
        nlohmann::json{{"address", "x"}, {"account_number", "1"}, {"sequence", std::to_string(sequence)}}
            .dump());
  }
  std::vector<uint64_t> signed_with;

 private:
  FakeChainRpc* rpc_ = nullptr;
  std::string path_;
  std::atomic<uint64_t> chain_sequence_;
};

std::vector<common::tx::TxMessage> one_message() {
  return {{"/inference.bank.MsgSend", "payload"}};
}

TEST(TxSender, DerivesTheCosmosAddressOfItsKey) {
  FakeChainRpc rpc;
  ChainClient client(rpc.url());
  TxSenderOptions options;
  options.address_prefix = "cosmos";
  // Private key 1: its public key is the generator, whose Cosmos address is a known vector.
  TxSender sender(client, *common::secp256k1::private_key_from_bytes(std::string(31, '\0') + "\x01"), "t",
                  options);
  EXPECT_EQ(sender.address(), "cosmos1w508d6qejxtdg4y5r3zarvary0c5xw7k6ah60c");
}

TEST(TxSender, KeepsALocalSequenceSoSeveralTxsFitInOneBlock) {
  FakeChainRpc rpc;
  ChainClient client(rpc.url());
  TxSender sender(client, test_key(), "t");
  SequenceCheckingNode node(rpc, sender.address(), 5);
  node.publish(5);
  for (int i = 0; i < 3; ++i) {
    auto r = sender.broadcast(one_message());
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->txhash.size(), 64u);
  }
  node.publish(0);  // the chain has not committed them: the sender must not ask again
  ASSERT_TRUE(sender.broadcast(one_message()));
  EXPECT_EQ(node.signed_with, (std::vector<uint64_t>{5, 6, 7, 8}));
}

TEST(TxSender, ResyncsTheSequenceFromTheChainAfterAMismatch) {
  FakeChainRpc rpc;
  ChainClient client(rpc.url());
  TxSender sender(client, test_key(), "t");
  SequenceCheckingNode node(rpc, sender.address(), 9);
  node.publish(4);  // stale at first
  auto first = sender.broadcast(one_message());
  ASSERT_FALSE(first);
  EXPECT_EQ(first.error().code, common::tx::codes::kWrongSequence);
  EXPECT_NE(first.error().message.find("sequence mismatch"), std::string::npos);
  node.publish(9);  // someone else signed with this key; the chain now says 9
  auto second = sender.broadcast(one_message());
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_EQ(node.signed_with, (std::vector<uint64_t>{4, 4, 4, 9}));
}

TEST(TxSender, UnknownAccountIsAClearError) {
  FakeChainRpc rpc;
  ChainClient client(rpc.url());
  TxSender sender(client, test_key(), "t");
  auto r = sender.broadcast(one_message());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, 404u);
  EXPECT_NE(r.error().message.find("needs funds"), std::string::npos);
}

TEST(TxSender, WaitsUntilTheTxIsInABlock) {
  FakeChainRpc rpc;
  ChainClient client(rpc.url());
  TxSenderOptions options;
  options.inclusion_poll = 10ms;
  options.inclusion_timeout = 5s;
  TxSender sender(client, test_key(), "t", options);
  SequenceCheckingNode node(rpc, sender.address(), 0);
  node.publish(0);
  std::thread committer([&] {
    std::this_thread::sleep_for(100ms);
    // The hash of the tx the sender signs: same key, message and sequence give the same bytes.
    std::string tx = common::tx::build_signed_tx(one_message(), "", 0, test_key(), 0, "t");
    rpc.set(
        "/txs/" + common::tx::tx_hash_hex(tx), 200,
        R"({"hash": "X", "height": 17, "index": 0, "code": 5, "log": "insufficient funds", "events": []})");
  });
  auto r = sender.send_and_wait(one_message());
  committer.join();
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->height, 17u);
  EXPECT_EQ(r->code, 5u);
}

TEST(TxSender, InclusionTimesOut) {
  FakeChainRpc rpc;
  ChainClient client(rpc.url());
  TxSenderOptions options;
  options.inclusion_poll = 10ms;
  options.inclusion_timeout = 100ms;
  TxSender sender(client, test_key(), "t", options);
  auto r = sender.wait_for_inclusion(std::string(64, 'A'));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, kTimeoutError);
}

}  // namespace
}  // namespace api::chain
