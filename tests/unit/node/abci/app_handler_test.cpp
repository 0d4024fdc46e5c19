// Each ABCI method against hand-written request/response bytes. The vectors are composed field by field with
// the helpers of wire.h (tag = field << 3 | wire type) so they can be checked against the v0.38 field tables
// without trusting our generated code. Values the app computes (app hashes, logs) come from a reference App
// driven directly through chain::app::App.
#include "node/abci/app_handler.h"

#include <gtest/gtest.h>

#include "abci/types.pb.h"
#include "chain/app/test_chain.h"
#include "chain/store/memory_store.h"
#include "chain/types/codes.h"
#include "common/hash.h"
#include "common/json_text.h"
#include "wire.h"

namespace node::abci {
namespace {

using test::hex;
using test::lfield;
using test::vfield;

constexpr int64_t kGenesisSeconds = 1700000000;
const std::string kProposer = std::string(20, '\x07');

class AbciMethods : public ::testing::Test {
 protected:
  AbciMethods() {
    genesis.genesis_time_unix_ms = kGenesisSeconds * 1000;  // what InitChain's time field below says
  }

  std::string roundtrip(const std::string& request_bytes) {
    tendermint::abci::Request req;
    EXPECT_TRUE(req.ParseFromString(request_bytes)) << "bad test vector";
    tendermint::abci::Response res;
    handler.handle(req, res);
    return res.SerializeAsString();
  }

  // RequestInitChain, field by field:
  //   1 time             Timestamp{seconds = 1700000000}
  //   2 chain_id         "test-chain"
  //   3 consensus_params ConsensusParams{block: BlockParams{max_bytes = 22020096, max_gas = -1}} (ignored by
  //   us;
  //                      -1 as int64 is the 10-byte varint ff ff ff ff ff ff ff ff ff 01)
  //   4 validators       ValidatorUpdate{pub_key: PublicKey{ed25519 = 32 bytes}, power = 10}
  //   5 app_state_bytes  the genesis app_state JSON
  //   6 initial_height   1
  // wrapped in field 5 of Request.
  std::string init_chain_request(const chain::app::Genesis& g) const {
    std::string params = lfield(1, vfield(1, 22020096) + hex("10 ff ff ff ff ff ff ff ff ff 01"));
    std::string body = lfield(1, vfield(1, kGenesisSeconds)) + lfield(2, g.chain_id) + lfield(3, params);
    for (const auto& v : g.validators)
      body += lfield(4, lfield(1, lfield(1, v.pub_key)) + vfield(2, v.power));
    body += lfield(5, g.app_state.dump()) + vfield(6, 1);
    return lfield(5, body);
  }

  // RequestFinalizeBlock: 1 txs (repeated), 4 hash, 5 height, 6 time, 8 proposer_address; wrapped in
  // field 20.
  static std::string finalize_request(const std::vector<std::string>& txs, const std::string& hash,
                                      int64_t height) {
    std::string body;
    for (const auto& tx : txs) body += lfield(1, tx);
    body += lfield(4, hash) + vfield(5, static_cast<uint64_t>(height)) +
            lfield(6, vfield(1, static_cast<uint64_t>(kGenesisSeconds + height))) + lfield(8, kProposer);
    return lfield(20, body);
  }

  chain::app::BlockInfo block_info(uint64_t height, const std::string& last_hash) const {
    return {chain::test::kChainId, height, (kGenesisSeconds + static_cast<int64_t>(height)) * 1000, last_hash,
            kProposer};
  }

  // Runs InitChain, and block 1 with one send from alice to bob, through the handler.
  void run_block_one() {
    ASSERT_EQ(roundtrip(init_chain_request(genesis)).substr(0, 2), hex("32 22"));
    block1_txs = {chain::test::send_tx(alice, bob, 10)};
    auto res = roundtrip(finalize_request(block1_txs, block1_hash, 1));
    ASSERT_EQ(res.substr(0, 2), hex("aa 01"));
    ASSERT_EQ(roundtrip(hex("5a 00")), hex("62 00"));
  }

  chain::store::MemoryStore store;
  chain::app::App app{store};
  std::mutex mu;
  chain::test::TestAccount alice = chain::test::make_account(1);
  chain::test::TestAccount bob = chain::test::make_account(2);
  chain::app::Genesis genesis = chain::test::make_genesis({alice, bob}, 1000000);
  AppHandler handler{app, store, mu, nullptr, AppHandlerOptions{genesis, "0.1.0", 1}};
  std::vector<std::string> block1_txs;
  std::string block1_hash = common::sha256("block 1");
};

TEST_F(AbciMethods, EchoReturnsTheMessage) {
  // Request{echo: {message: "hi"}} -> Response{echo: {message: "hi"}} (envelope field 1 -> 2).
  EXPECT_EQ(roundtrip(hex("0a 04 0a 02 68 69")), hex("12 04 0a 02 68 69"));
}

TEST_F(AbciMethods, FlushAnswersFlush) {
  // Request field 2 -> Response field 3, both empty.
  EXPECT_EQ(roundtrip(hex("12 00")), hex("1a 00"));
}

TEST_F(AbciMethods, InfoOnAnEmptyChainReportsHeightZero) {
  // Request{info: {version "0.38.19", block_version 11, p2p_version 8, abci_version "2.0.0"}}:
  //   1a 14 | 0a 07 "0.38.19" | 10 0b | 18 08 | 22 05 "2.0.0"
  std::string req = hex("1a 14 0a 07") + "0.38.19" + hex("10 0b 18 08 22 05") + "2.0.0";
  // Response{info: {data "inferenced", version "0.1.0", app_version 1}}; height 0 and the empty app hash are
  // default values, so they are not on the wire:  22 15 | 0a 0a "inferenced" | 12 05 "0.1.0" | 18 01
  std::string expected = hex("22 15 0a 0a") + "inferenced" + hex("12 05") + "0.1.0" + hex("18 01");
  EXPECT_EQ(roundtrip(req), expected);
}

TEST_F(AbciMethods, InitChainReturnsTheGenesisAppHash) {
  chain::store::MemoryStore ref_store;
  chain::app::App ref(ref_store);
  auto ref_hash = ref.init_chain(genesis);
  ASSERT_TRUE(ref_hash.ok());
  // Response{init_chain: {app_hash: 32 bytes}}: 32 22 | 1a 20 <hash>. No validators: keep CometBFT's genesis
  // set.
  EXPECT_EQ(roundtrip(init_chain_request(genesis)), hex("32 22 1a 20") + *ref_hash);
  EXPECT_TRUE(app.has_genesis());
  EXPECT_EQ(app.info().height, 0u);  // nothing is persisted before the first Commit
}

TEST_F(AbciMethods, InitChainRefusesValidatorsThatDifferFromOurGenesis) {
  auto other = genesis;
  other.validators[0].pub_key = std::string(32, '\x09');
  tendermint::abci::Response res;
  ASSERT_TRUE(res.ParseFromString(roundtrip(init_chain_request(other))));
  ASSERT_TRUE(res.has_exception());
  EXPECT_NE(res.exception().error().find("validators in CometBFT's genesis differ"), std::string::npos)
      << res.exception().error();
  EXPECT_FALSE(app.has_genesis());
}

TEST_F(AbciMethods, InitChainRefusesAnotherChainId) {
  auto other = genesis;
  other.chain_id = "other-chain";
  tendermint::abci::Response res;
  ASSERT_TRUE(res.ParseFromString(roundtrip(init_chain_request(other))));
  ASSERT_TRUE(res.has_exception());
  EXPECT_NE(res.exception().error().find("\"other-chain\""), std::string::npos) << res.exception().error();
}

TEST_F(AbciMethods, CheckTxAcceptsAValidSendAndRejectsGarbage) {
  roundtrip(init_chain_request(genesis));
  // Request{check_tx: {tx: <bytes>}}: 42 LEN | 0a LEN tx. A passing tx has only default fields: 4a 00.
  EXPECT_EQ(roundtrip(lfield(8, lfield(1, chain::test::send_tx(alice, bob, 5)))), hex("4a 00"));
  // RECHECK (type = 1, field 2) of an already-accepted sequence fails with the sequence code.
  auto again = chain::test::send_tx(bob, alice, 1);
  EXPECT_EQ(roundtrip(lfield(8, lfield(1, again))), hex("4a 00"));
  tendermint::abci::Response res;
  ASSERT_TRUE(res.ParseFromString(roundtrip(lfield(8, lfield(1, again) + vfield(2, 1)))));
  EXPECT_EQ(res.check_tx().code(), chain::codes::kWrongSequence);
  // Garbage: code (field 1) then log (field 3).
  auto garbage = roundtrip(lfield(8, lfield(1, "not a tx")));
  ASSERT_TRUE(res.ParseFromString(garbage));
  EXPECT_NE(res.check_tx().code(), 0u);
  EXPECT_FALSE(res.check_tx().log().empty());
  EXPECT_EQ(res.check_tx().codespace(), "sdk");
  EXPECT_EQ(garbage.substr(2, 1), hex("08"));
}

TEST_F(AbciMethods, FinalizeBlockExecutesTxsInOrderAndReturnsTheAppHash) {
  roundtrip(init_chain_request(genesis));
  auto good = chain::test::send_tx(alice, bob, 10);
  std::string bad = "junk";
  auto res_bytes = roundtrip(finalize_request({good, bad}, block1_hash, 1));

  chain::store::MemoryStore ref_store;
  chain::app::App ref(ref_store);
  ASSERT_TRUE(ref.init_chain(genesis).ok());
  auto ref_result = ref.finalize_block(block_info(1, ""), {good, bad});

  // Response field 21 (tag aa 01); app_hash is ResponseFinalizeBlock field 5, serialized last: 2a 20 <hash>.
  ASSERT_EQ(res_bytes.substr(0, 2), hex("aa 01"));
  EXPECT_EQ(res_bytes.substr(res_bytes.size() - 34), hex("2a 20") + ref_result.app_hash);
  tendermint::abci::Response res;
  ASSERT_TRUE(res.ParseFromString(res_bytes));
  const auto& fb = res.finalize_block();
  ASSERT_EQ(fb.tx_results_size(), 2);
  EXPECT_EQ(fb.tx_results(0).code(), 0u);
  EXPECT_EQ(fb.tx_results(1).code(), ref_result.tx_results[1].code);
  EXPECT_NE(fb.tx_results(1).code(), 0u);
  EXPECT_EQ(fb.tx_results(1).log(), ref_result.tx_results[1].log);
  ASSERT_FALSE(fb.tx_results(0).events().empty());
  // The app's "tx" event keeps its attributes except "hash": tx.hash is reserved by CometBFT's indexer (it
  // would refuse to index the block) and CometBFT provides it itself.
  const auto& tx_event = fb.tx_results(0).events(0);
  EXPECT_EQ(tx_event.type(), "tx");
  ASSERT_EQ(ref_result.tx_results[0].events[0].attributes[0].first, "hash");
  ASSERT_EQ(tx_event.attributes_size(),
            static_cast<int>(ref_result.tx_results[0].events[0].attributes.size()) - 1);
  for (const auto& a : tx_event.attributes()) {
    EXPECT_NE(a.key(), "hash");
    EXPECT_TRUE(a.index());
  }
  EXPECT_EQ(fb.validator_updates_size(), 0);
  EXPECT_EQ(app.info().height, 0u);  // FinalizeBlock computes, Commit persists
}

TEST_F(AbciMethods, CommitPersistsAndInfoReportsIt) {
  run_block_one();
  auto committed = app.info();
  ASSERT_EQ(committed.height, 1u);
  // Response{info}: 22 39 | 0a 0a "inferenced" | 12 05 "0.1.0" | 18 01 | 20 01 (height 1) | 2a 20 <app hash>
  std::string expected = hex("22 39 0a 0a") + "inferenced" + hex("12 05") + "0.1.0" +
                         hex("18 01 20 01 2a 20") + committed.app_hash;
  EXPECT_EQ(roundtrip(hex("1a 00")), expected);
  // The block hash is kept for the next block's BlockInfo::last_block_hash.
  EXPECT_EQ(store.get_aux(kLastBlockHashKey), block1_hash);
}

TEST_F(AbciMethods, CommitWithoutFinalizeBlockIsAnException) {
  roundtrip(init_chain_request(genesis));
  tendermint::abci::Response res;
  ASSERT_TRUE(res.ParseFromString(roundtrip(hex("5a 00"))));
  ASSERT_TRUE(res.has_exception());
  EXPECT_NE(res.exception().error().find("Commit without a finalized block"), std::string::npos);
}

TEST_F(AbciMethods, FinalizeBlockAtTheWrongHeightIsAnException) {
  run_block_one();
  tendermint::abci::Response res;
  ASSERT_TRUE(res.ParseFromString(roundtrip(finalize_request({}, block1_hash, 3))));
  ASSERT_TRUE(res.has_exception());
  EXPECT_NE(res.exception().error().find("FinalizeBlock for height 3 but the app has committed height 1"),
            std::string::npos);
}

TEST_F(AbciMethods, SecondBlockSeesThePreviousBlockHash) {
  run_block_one();
  auto tx = chain::test::send_tx(bob, alice, 3);
  auto res_bytes = roundtrip(finalize_request({tx}, common::sha256("block 2"), 2));
  // Reference: the same two blocks, block 2 carrying block 1's hash as last_block_hash.
  chain::store::MemoryStore ref_store;
  chain::app::App ref(ref_store);
  ASSERT_TRUE(ref.init_chain(genesis).ok());
  ref.finalize_block(block_info(1, ""), block1_txs);
  ref.commit();
  auto r2 = ref.finalize_block(block_info(2, block1_hash), {tx});
  EXPECT_EQ(res_bytes.substr(res_bytes.size() - 34), hex("2a 20") + r2.app_hash);
}

TEST_F(AbciMethods, QueryAnswersFromCommittedState) {
  run_block_one();
  std::string path = "/bank/balances/" + bob.bech32;
  // Request{query: {path}}: 32 LEN | 12 LEN path.
  // Response{query}: 3a LEN | 32 LEN path (key) | 3a LEN json (value) | 48 01 (height 1).
  std::string json =
      R"({"address":")" + bob.bech32 + R"(","balances":[{"amount":"1000010","denom":"nicoin"}]})";
  EXPECT_EQ(roundtrip(lfield(6, lfield(2, path))),
            lfield(7, lfield(6, path) + lfield(7, json) + vfield(9, 1)));
  // Unknown path: code 6 (field 1), the log (field 3) and codespace "sdk" (field 10, docs/errors.md).
  std::string log = "unknown query path /nope";
  EXPECT_EQ(roundtrip(lfield(6, lfield(2, "/nope"))),
            lfield(7, vfield(1, chain::codes::kUnknownRequest) + lfield(3, log) + lfield(6, "/nope") +
                          vfield(9, 1) + lfield(10, "sdk")));
}

TEST_F(AbciMethods, QueryTakesParametersFromThePathOrFromJsonData) {
  run_block_one();
  tendermint::abci::Response res;
  ASSERT_TRUE(res.ParseFromString(roundtrip(lfield(6, lfield(2, "/bank/supply/nicoin")))));
  EXPECT_EQ(res.query().code(), 0u);
  EXPECT_EQ(nlohmann::json::parse(res.query().value())["amount"], "2000000");
  std::map<std::string, std::string> params;
  EXPECT_EQ(split_query_path("/x/y?a=1&b=hello%20world&c", params), "/x/y");
  EXPECT_EQ(params["a"], "1");
  EXPECT_EQ(params["b"], "hello world");
  EXPECT_EQ(params.count("c"), 1u);
}

TEST_F(AbciMethods, QueryWithAPathThatIsNotUtf8IsAnsweredNotFatal) {
  // Go does not check UTF-8 in strings, so anyone can send such a path through CometBFT's abci_query RPC.
  // Our .proto declares it as bytes: the frame decodes and the answer is code 18 (invalid request), because a
  // path must be UTF-8 (issue 13 fault 1).
  tendermint::abci::Response res;
  ASSERT_TRUE(res.ParseFromString(roundtrip(lfield(6, lfield(2, "/bank/\xff\xfe")))));
  EXPECT_FALSE(res.has_exception());
  EXPECT_EQ(res.query().code(), chain::codes::kInvalidRequest);
}

TEST_F(AbciMethods, QueryWhoseRouteEchoesANonUtf8PathIsAnErrorNotAnException) {
  // The repro of issue 13 fault 1: "/inference/throughput/{model_id...}" matched a model id of byte 0xff, the
  // handler echoed it into its JSON answer and serialising that answer threw, which stopped CometBFT.
  run_block_one();
  tendermint::abci::Response res;
  ASSERT_TRUE(res.ParseFromString(roundtrip(lfield(6, lfield(2, "/inference/throughput/\xff")))));
  EXPECT_FALSE(res.has_exception()) << res.exception().error();
  EXPECT_EQ(res.query().code(), chain::codes::kInvalidRequest);
  EXPECT_NE(res.query().log().find("/inference/throughput/\\xff"), std::string::npos) << res.query().log();
  EXPECT_TRUE(common::is_valid_utf8(res.query().log()));
  // The same byte in a query parameter (in the path's query string, percent-encoded, or in the JSON data).
  ASSERT_TRUE(res.ParseFromString(roundtrip(lfield(6, lfield(2, "/inference/executor?model=%FF")))));
  EXPECT_FALSE(res.has_exception());
  EXPECT_EQ(res.query().code(), chain::codes::kInvalidRequest);
}

TEST_F(AbciMethods, EveryQueryPathAnswersWithoutAnExceptionWhateverTheBytes) {
  run_block_one();
  std::vector<std::string> paths = {"",
                                    "/",
                                    "\xff",
                                    "/bank/balances/\xc3",
                                    "/gov/proposals/\xed\xa0\x80",
                                    "/inference/epochs/99999999999999999999999",
                                    "/inference/epoch-groups/-1",
                                    std::string("/bank/balances/\0x", 17),
                                    "/inference/inferences/%",
                                    "/inference/executor?model=&model=%ZZ",
                                    std::string(5000, '/')};
  for (const auto& pattern : app.query_paths()) {
    std::string p = pattern;
    for (auto open = p.find('{'); open != std::string::npos; open = p.find('{')) {
      p.replace(open, p.find('}', open) - open + 1, "\xfe\xff");
    }
    paths.push_back(p);
  }
  for (const auto& path : paths) {
    tendermint::abci::Response res;
    ASSERT_TRUE(res.ParseFromString(roundtrip(lfield(6, lfield(2, path))))) << path;
    EXPECT_FALSE(res.has_exception()) << common::printable(path) << ": " << res.exception().error();
    EXPECT_TRUE(res.has_query()) << common::printable(path);
    EXPECT_TRUE(common::is_valid_utf8(res.query().log())) << common::printable(path);
  }
}

// A store whose reads can be made to fail, for the node's answer when the app throws.
class FailingStore final : public chain::store::CommitStore {
 public:
  std::optional<std::string> get(std::string_view key) const override {
    check();
    return base.get(key);
  }
  void scan(std::string_view start, std::string_view end, const chain::store::ScanFn& fn) const override {
    check();
    base.scan(start, end, fn);
  }
  chain::store::CommitInfo last_commit() const override { return base.last_commit(); }
  void commit(const chain::store::WriteSet& state, const chain::store::CommitInfo& info,
              const chain::store::WriteSet& aux) override {
    base.commit(state, info, aux);
  }
  std::optional<std::string> get_aux(std::string_view key) const override { return base.get_aux(key); }
  void scan_aux(std::string_view start, std::string_view end, const chain::store::ScanFn& fn) const override {
    base.scan_aux(start, end, fn);
  }
  std::unique_ptr<chain::store::KvReader> snapshot() const override {
    check();
    return base.snapshot();
  }
  std::optional<StateView> state_at(uint64_t height) const override {
    check();
    return base.state_at(height);
  }
  uint64_t oldest_kept_height() const override { return base.oldest_kept_height(); }
  void check() const {
    if (failing) throw std::runtime_error("disk read error \xff");
  }
  chain::store::MemoryStore base;
  bool failing = false;
};

TEST_F(AbciMethods, AnAppFailureInQueryOrCheckTxIsAnErrorCodeButInFinalizeBlockHalts) {
  FailingStore failing;
  chain::app::App failing_app{failing};
  AppHandler h{failing_app, failing, mu, nullptr, AppHandlerOptions{genesis, "0.1.0", 1}};
  auto call = [&](const std::string& bytes) {
    tendermint::abci::Request req;
    EXPECT_TRUE(req.ParseFromString(bytes));
    tendermint::abci::Response res;
    h.handle(req, res);
    return res;
  };
  ASSERT_FALSE(call(init_chain_request(genesis)).has_exception());
  ASSERT_FALSE(call(finalize_request({}, block1_hash, 1)).has_exception());
  ASSERT_FALSE(call(hex("5a 00")).has_exception());
  failing.failing = true;

  auto q = call(lfield(6, lfield(2, "/bank/balances/" + bob.bech32)));
  EXPECT_FALSE(q.has_exception());
  EXPECT_EQ(q.query().code(), chain::codes::kInternal);
  EXPECT_NE(q.query().log().find("disk read error \\xff"), std::string::npos) << q.query().log();

  auto c = call(lfield(8, lfield(1, chain::test::send_tx(alice, bob, 1))));  // Request{check_tx: {tx}}
  EXPECT_FALSE(c.has_exception());
  EXPECT_EQ(c.check_tx().code(), chain::codes::kInternal);

  auto p =
      call(lfield(16, vfield(1, 1 << 20) + lfield(2, chain::test::send_tx(alice, bob, 1)) + vfield(5, 2)));
  EXPECT_FALSE(p.has_exception());
  EXPECT_EQ(p.prepare_proposal().txs_size(), 0);  // an empty proposal instead of a crash

  auto f = call(finalize_request({chain::test::send_tx(alice, bob, 1)}, common::sha256("block 2"), 2));
  ASSERT_TRUE(f.has_exception());
  EXPECT_NE(f.exception().error().find("broken invariant"), std::string::npos) << f.exception().error();
  EXPECT_TRUE(common::is_valid_utf8(f.exception().error()));
}

TEST_F(AbciMethods, PeerFilterQueriesAcceptEveryPeer) {
  // CometBFT with filter_peers asks /p2p/filter/addr/<ip:port>; code 0 accepts. Empty ResponseQuery: 3a 00.
  EXPECT_EQ(roundtrip(lfield(6, lfield(2, "/p2p/filter/id/abcdef"))), hex("3a 00"));
}

TEST_F(AbciMethods, PrepareProposalDropsTxsThatFailCheckTx) {
  run_block_one();                                  // alice's sequence 0 is used
  auto next = chain::test::send_tx(alice, bob, 1);  // sequence 1: valid
  alice.sequence = 1;
  auto replay = chain::test::send_tx(alice, bob, 2);  // sequence 1 again: fails after `next`
  auto from_bob = chain::test::send_tx(bob, alice, 1);
  // Request{prepare_proposal}: field 16 (tag 82 01) | 08 max_tx_bytes | 12 tx ... | 28 height
  std::string body = vfield(1, 1 << 20) + lfield(2, next) + lfield(2, "garbage") + lfield(2, replay) +
                     lfield(2, from_bob) + vfield(5, 2);
  // Response{prepare_proposal: {txs}}: field 17 (tag 8a 01) | 0a tx ...
  EXPECT_EQ(roundtrip(lfield(16, body)), lfield(17, lfield(1, next) + lfield(1, from_bob)));
  // The mempool's view is untouched: CheckTx still accepts alice's sequence 1.
  EXPECT_EQ(roundtrip(lfield(8, lfield(1, next))), hex("4a 00"));
}

TEST_F(AbciMethods, PrepareProposalRespectsMaxTxBytes) {
  run_block_one();
  auto t1 = chain::test::send_tx(alice, bob, 1);
  auto t2 = chain::test::send_tx(bob, alice, 1);
  // Each tx takes tag + length prefix + bytes in the block data; allow exactly the first one.
  auto limit = static_cast<uint64_t>(lfield(1, t1).size());
  std::string body = vfield(1, limit) + lfield(2, t1) + lfield(2, t2) + vfield(5, 2);
  EXPECT_EQ(roundtrip(lfield(16, body)), lfield(17, lfield(1, t1)));
  // One byte less: t1 no longer fits and is skipped, but t2 does (bob's sequence 0 is a default value and is
  // not encoded, so his tx is 2 bytes shorter). A tx that does not fit stays in CometBFT's mempool.
  ASSERT_EQ(t2.size() + 2, t1.size());
  body = vfield(1, limit - 1) + lfield(2, t1) + lfield(2, t2) + vfield(5, 2);
  EXPECT_EQ(roundtrip(lfield(16, body)), lfield(17, lfield(1, t2)));
  // Room for neither.
  body = vfield(1, limit - 3) + lfield(2, t1) + lfield(2, t2) + vfield(5, 2);
  EXPECT_EQ(roundtrip(lfield(16, body)), hex("8a 01 00"));
}

TEST_F(AbciMethods, PrepareProposalBeforeTheFirstCommitChecksDecodingOnly) {
  roundtrip(init_chain_request(genesis));
  auto t1 = chain::test::send_tx(alice, bob, 1);
  std::string body = vfield(1, 1 << 20) + lfield(2, "garbage") + lfield(2, t1) + vfield(5, 1);
  EXPECT_EQ(roundtrip(lfield(16, body)), lfield(17, lfield(1, t1)));
}

TEST_F(AbciMethods, ProcessProposalAcceptsDecodableTxsAndRejectsGarbage) {
  run_block_one();
  auto t1 = chain::test::send_tx(alice, bob, 1);
  // Request field 17 (tag 8a 01): 0a tx | 22 hash | 28 height. Response field 18 (tag 92 01): 08 status.
  EXPECT_EQ(roundtrip(lfield(17, lfield(1, t1) + lfield(4, std::string(32, 'h')) + vfield(5, 2))),
            hex("92 01 02 08 01"));  // ACCEPT
  // A tx that fails in FinalizeBlock (wrong sequence) is still a valid block: accept.
  alice.sequence = 0;
  EXPECT_EQ(roundtrip(lfield(17, lfield(1, chain::test::send_tx(alice, bob, 1)) + vfield(5, 2))),
            hex("92 01 02 08 01"));
  EXPECT_EQ(roundtrip(lfield(17, lfield(1, "garbage") + vfield(5, 2))), hex("92 01 02 08 02"));  // REJECT
}

TEST_F(AbciMethods, SnapshotMethodsAnswerThatThereAreNoSnapshots) {
  EXPECT_EQ(roundtrip(hex("62 00")), hex("6a 00"));                    // ListSnapshots -> empty list
  EXPECT_EQ(roundtrip(hex("6a 00")), hex("72 02 08 02"));              // OfferSnapshot -> ABORT
  EXPECT_EQ(roundtrip(hex("72 06 08 05 10 01 18 00")), hex("7a 00"));  // LoadSnapshotChunk{5,1,0} -> empty
  EXPECT_EQ(roundtrip(hex("7a 00")), hex("82 01 02 08 02"));           // ApplySnapshotChunk -> ABORT
}

TEST_F(AbciMethods, VoteExtensionsAreEmptyAndAccepted) {
  EXPECT_EQ(roundtrip(hex("92 01 00")), hex("9a 01 00"));        // ExtendVote -> no extension
  EXPECT_EQ(roundtrip(hex("9a 01 00")), hex("a2 01 02 08 01"));  // VerifyVoteExtension -> ACCEPT
}

TEST_F(AbciMethods, UnknownRequestIsAnException) {
  // Field 7 was BeginBlock in ABCI 1.0; in v0.38 it is reserved, so the envelope has no known value.
  tendermint::abci::Response res;
  auto bytes = roundtrip(hex("3a 00"));
  ASSERT_EQ(bytes.substr(0, 1), hex("0a"));  // Response field 1: exception
  ASSERT_TRUE(res.ParseFromString(bytes));
  EXPECT_NE(res.exception().error().find("unknown type"), std::string::npos);
}

TEST(AbciValidatorUpdates, MapsToEd25519OncePerKeyWithTheLastPower) {
  std::string a(32, 'A'), b(32, 'B');
  tendermint::abci::ResponseFinalizeBlock res;
  append_validator_updates({{a, 5}, {b, 7}, {a, 0}}, res);
  // Field 3, each ValidatorUpdate{1: PublicKey{1: ed25519}, 2: power}; power 0 (remove) is the default value,
  // so it is absent from the wire.
  EXPECT_EQ(res.SerializeAsString(),
            lfield(3, lfield(1, lfield(1, a))) + lfield(3, lfield(1, lfield(1, b)) + vfield(2, 7)));
  EXPECT_THROW(append_validator_updates({{"short", 1}}, res), std::logic_error);
}

TEST(AbciGenesis, WithoutANodeGenesisTakesEverythingFromTheRequest) {
  tendermint::abci::RequestInitChain req;
  req.set_chain_id("c1");
  req.mutable_time()->set_seconds(5);
  auto* v = req.add_validators();
  v->mutable_pub_key()->set_ed25519(std::string(32, 'k'));
  v->set_power(3);
  req.set_app_state_bytes(R"({"bank":{}})");
  auto g = genesis_from_init_chain(req, std::nullopt);
  ASSERT_TRUE(g.ok()) << g.error().message;
  EXPECT_EQ(g->chain_id, "c1");
  EXPECT_EQ(g->genesis_time_unix_ms, 5000);
  ASSERT_EQ(g->validators.size(), 1u);
  EXPECT_EQ(g->validators[0].power, 3);
  EXPECT_TRUE(g->app_state.contains("bank"));
  req.set_app_state_bytes("[1,2]");
  EXPECT_FALSE(genesis_from_init_chain(req, std::nullopt).ok());
  req.set_app_state_bytes("");
  req.set_initial_height(5);
  EXPECT_FALSE(genesis_from_init_chain(req, std::nullopt).ok());
}

}  // namespace
}  // namespace node::abci
