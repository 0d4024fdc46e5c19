// A fake CometBFT: opens the four connections (query, snapshot, mempool, consensus) to a real server over
// TCP and walks the ABCI call grammar — Info, InitChain, then PrepareProposal / ProcessProposal /
// FinalizeBlock / Commit per height with CheckTx and Query in between — then "crashes" between FinalizeBlock
// and Commit, restarts the app over the same RocksDB directory and checks that Info reports the last commit
// and that replaying the interrupted block gives the same app hash. Runs in well under a second.
#include <filesystem>

#include <gtest/gtest.h>

#include "abci/types.pb.h"
#include "chain/app/test_chain.h"
#include "chain/store/memory_store.h"
#include "chain/store/rocksdb_store.h"
#include "common/hash.h"
#include "node/abci/app_handler.h"
#include "node/abci/server.h"
#include "test_client.h"

namespace node::abci {
namespace {

namespace ab = tendermint::abci;
using test::TestClient;

constexpr int64_t kDriverGenesisSeconds = 1700000000;
const std::string kDriverProposer = std::string(20, '\x05');

std::string block_hash(int64_t height) {
  return common::sha256("block " + std::to_string(height));
}

// Records what the node would store and publish; its records are committed with the block.
class RecordingHooks final : public NodeHooks {
 public:
  chain::store::WriteSet block_records(const FinalizedBlock& block) override {
    return {{"test/block/" + std::to_string(block.info.height), block.hash}};
  }
  void block_committed(const FinalizedBlock& block, const chain::store::CommitInfo& commit) override {
    committed.push_back({block.info.height, block.info.last_block_hash, commit.app_hash});
  }
  struct Entry {
    uint64_t height;
    std::string last_block_hash;
    std::string app_hash;
  };
  std::vector<Entry> committed;
};

// inferenced as the CometBFT mode would wire it: RocksDB store, App, handler, server.
struct AppProcess {
  AppProcess(const std::string& dir, const chain::app::Genesis& genesis)
      : store(std::make_unique<chain::store::RocksDbStore>(dir)),
        app(std::make_unique<chain::app::App>(*store)),
        handler(*app, *store, mu, &hooks, AppHandlerOptions{genesis, "test", 1}),
        server(handler, ServerOptions{"tcp://127.0.0.1:0", 2, kDefaultMaxFrameBytes, {}}) {
    server.start();
  }
  ~AppProcess() { server.stop(); }
  std::mutex mu;
  RecordingHooks hooks;
  std::unique_ptr<chain::store::RocksDbStore> store;
  std::unique_ptr<chain::app::App> app;
  AppHandler handler;
  Server server;
};

// The four connections, opened in CometBFT's order.
struct FakeComet {
  explicit FakeComet(uint16_t port)
      : query(TestClient::tcp(port)),
        snapshot(TestClient::tcp(port)),
        mempool(TestClient::tcp(port)),
        consensus(TestClient::tcp(port)) {}
  TestClient query, snapshot, mempool, consensus;

  ab::ResponseInfo info() {
    ab::Request r;
    r.mutable_info()->set_version("0.38.19");
    r.mutable_info()->set_abci_version("2.0.0");
    return query.call(r).info();
  }
  // CheckTx is asynchronous on the mempool connection: several requests, one Flush, responses in order.
  std::vector<uint32_t> check_txs(const std::vector<std::string>& txs) {
    for (const auto& tx : txs) {
      ab::Request r;
      r.mutable_check_tx()->set_tx(tx);
      mempool.send(r);
    }
    mempool.send_flush();
    std::vector<uint32_t> codes;
    for (std::size_t i = 0; i < txs.size(); ++i) {
      auto res = mempool.read();
      EXPECT_TRUE(res.has_check_tx()) << res.DebugString();
      codes.push_back(res.check_tx().code());
    }
    EXPECT_TRUE(mempool.read().has_flush());
    return codes;
  }
  ab::ResponseFinalizeBlock finalize(int64_t height, const std::vector<std::string>& txs) {
    ab::Request r;
    auto* f = r.mutable_finalize_block();
    for (const auto& tx : txs) f->add_txs(tx);
    f->set_hash(block_hash(height));
    f->set_height(height);
    f->mutable_time()->set_seconds(kDriverGenesisSeconds + height);
    f->set_proposer_address(kDriverProposer);
    auto res = consensus.call(r);
    EXPECT_TRUE(res.has_finalize_block()) << res.DebugString();
    return res.finalize_block();
  }
  void commit() {
    ab::Request r;
    r.mutable_commit();
    auto res = consensus.call(r);
    ASSERT_TRUE(res.has_commit()) << res.DebugString();
    EXPECT_EQ(res.commit().retain_height(), 0);
  }
  // One height as the proposer sees it: PrepareProposal, its own ProcessProposal, FinalizeBlock, Commit.
  ab::ResponseFinalizeBlock run_height(int64_t height, const std::vector<std::string>& mempool_txs) {
    ab::Request prep;
    prep.mutable_prepare_proposal()->set_max_tx_bytes(1 << 20);
    prep.mutable_prepare_proposal()->set_height(height);
    for (const auto& tx : mempool_txs) prep.mutable_prepare_proposal()->add_txs(tx);
    auto prepared = consensus.call(prep).prepare_proposal();
    std::vector<std::string> txs(prepared.txs().begin(), prepared.txs().end());

    ab::Request proc;
    proc.mutable_process_proposal()->set_height(height);
    proc.mutable_process_proposal()->set_hash(block_hash(height));
    for (const auto& tx : txs) proc.mutable_process_proposal()->add_txs(tx);
    EXPECT_EQ(consensus.call(proc).process_proposal().status(), ab::ResponseProcessProposal::ACCEPT);

    auto finalized = finalize(height, txs);
    commit();
    return finalized;
  }
  nlohmann::json query_json(const std::string& path) {
    ab::Request r;
    r.mutable_query()->set_path(path);
    auto res = query.call(r).query();
    EXPECT_EQ(res.code(), 0u) << res.log();
    return nlohmann::json::parse(res.value());
  }
};

class TempDir {
 public:
  TempDir() {
    std::string templ = (std::filesystem::temp_directory_path() / "abci-driver-XXXXXX").string();
    path = ::mkdtemp(templ.data());
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string path;
};

TEST(AbciFakeCometBft, WalksTheCallGrammarAndRecoversAfterACrash) {
  TempDir dir;
  auto alice = chain::test::make_account(1);
  auto bob = chain::test::make_account(2);
  auto carol = chain::test::make_account(3);
  auto genesis = chain::test::make_genesis({alice, bob, carol}, 1000000);
  genesis.genesis_time_unix_ms = kDriverGenesisSeconds * 1000;

  // The same blocks executed directly on an App, as an independent reference for the app hashes.
  chain::store::MemoryStore ref_store;
  chain::app::App ref(ref_store);
  ASSERT_TRUE(ref.init_chain(genesis).ok());
  auto ref_block = [&](int64_t height, const std::vector<std::string>& txs) {
    chain::app::BlockInfo b{genesis.chain_id, static_cast<uint64_t>(height),
                            (kDriverGenesisSeconds + height) * 1000, height > 1 ? block_hash(height - 1) : "",
                            kDriverProposer};
    return ref.finalize_block(b, txs);
  };

  std::string app_hash_5;
  std::vector<std::string> block6_txs;
  std::string app_hash_6;
  {
    AppProcess node(dir.path + "/state", genesis);
    FakeComet comet(node.server.port());

    auto info = comet.info();  // clean start: height 0 -> InitChain
    EXPECT_EQ(info.last_block_height(), 0);
    EXPECT_TRUE(info.last_block_app_hash().empty());
    ab::Request init;
    auto* ic = init.mutable_init_chain();
    ic->set_chain_id(genesis.chain_id);
    ic->mutable_time()->set_seconds(kDriverGenesisSeconds);
    ic->set_initial_height(1);
    for (const auto& v : genesis.validators) {
      auto* vu = ic->add_validators();
      vu->mutable_pub_key()->set_ed25519(v.pub_key);
      vu->set_power(v.power);
    }
    ic->set_app_state_bytes(genesis.app_state.dump());
    auto init_res = comet.consensus.call(init);
    ASSERT_TRUE(init_res.has_init_chain()) << init_res.DebugString();
    chain::store::MemoryStore g_store;
    chain::app::App g_app(g_store);
    EXPECT_EQ(init_res.init_chain().app_hash(), *g_app.init_chain(genesis));

    ab::Request list;
    list.mutable_list_snapshots();
    EXPECT_EQ(comet.snapshot.call(list).list_snapshots().snapshots_size(), 0);
    ab::Request echo;
    echo.mutable_echo()->set_message("mempool up");
    EXPECT_EQ(comet.mempool.call(echo).echo().message(), "mempool up");
    EXPECT_EQ(node.server.open_connections(), 4u);  // each connection has answered a call by now

    for (int64_t h = 1; h <= 5; ++h) {
      // Txs arrive through different senders; one is garbage and is refused by CheckTx, in its position.
      std::vector<std::string> txs = {chain::test::send_tx(alice, bob, 10), "garbage",
                                      chain::test::send_tx(bob, carol, 3),
                                      chain::test::send_tx(carol, alice, 1)};
      auto codes = comet.check_txs(txs);
      ASSERT_EQ(codes.size(), 4u);
      EXPECT_EQ(codes[0], 0u);
      EXPECT_NE(codes[1], 0u);
      EXPECT_EQ(codes[2], 0u);
      EXPECT_EQ(codes[3], 0u);
      // CometBFT's mempool keeps only what passed CheckTx; PrepareProposal would drop the garbage anyway.
      auto fb = comet.run_height(h, txs);
      ASSERT_EQ(fb.tx_results_size(), 3);
      for (const auto& r : fb.tx_results()) EXPECT_EQ(r.code(), 0u) << r.log();
      auto expected = ref_block(h, {txs[0], txs[2], txs[3]});
      ref.commit();
      EXPECT_EQ(fb.app_hash(), expected.app_hash) << "height " << h;
      if (h == 5) app_hash_5 = fb.app_hash();
    }
    auto bal = comet.query_json("/bank/balances/" + alice.bech32);
    EXPECT_EQ(bal["balances"][0]["amount"], std::to_string(1000000 - 5 * 10 + 5 * 1));
    info = comet.info();
    EXPECT_EQ(info.last_block_height(), 5);
    EXPECT_EQ(info.last_block_app_hash(), app_hash_5);

    // Block 6 is finalized, then the process dies before Commit.
    block6_txs = {chain::test::send_tx(alice, carol, 7)};
    EXPECT_EQ(comet.check_txs(block6_txs)[0], 0u);
    app_hash_6 = comet.finalize(6, block6_txs).app_hash();
    ASSERT_EQ(node.hooks.committed.size(), 5u);
    for (const auto& e : node.hooks.committed) {
      EXPECT_EQ(e.last_block_hash, e.height > 1 ? block_hash(static_cast<int64_t>(e.height) - 1) : "");
    }
  }  // "kill": server, app and store go away without Commit of block 6

  {
    AppProcess node(dir.path + "/state", genesis);
    FakeComet comet(node.server.port());
    // Recovery: Info reports the last Commit; CometBFT replays block 6 from its block store.
    auto info = comet.info();
    EXPECT_EQ(info.last_block_height(), 5);
    EXPECT_EQ(info.last_block_app_hash(), app_hash_5);
    EXPECT_EQ(comet.query_json("/bank/balances/" + alice.bech32)["balances"][0]["amount"],
              std::to_string(1000000 - 5 * 10 + 5 * 1));
    auto replayed = comet.finalize(6, block6_txs);
    EXPECT_EQ(replayed.app_hash(), app_hash_6);
    comet.commit();
    ASSERT_EQ(node.hooks.committed.size(), 1u);
    EXPECT_EQ(node.hooks.committed[0].last_block_hash, block_hash(5));  // survived the restart
    EXPECT_EQ(node.store->get_aux("test/block/6"), block_hash(6));  // node records committed with the block

    // And it goes on: a live height after the replay.
    auto fb = comet.run_height(7, {chain::test::send_tx(bob, alice, 2)});
    EXPECT_EQ(fb.tx_results(0).code(), 0u);
    info = comet.info();
    EXPECT_EQ(info.last_block_height(), 7);
    EXPECT_EQ(info.last_block_app_hash(), fb.app_hash());
  }
  auto r6 = ref_block(6, block6_txs);
  EXPECT_EQ(r6.app_hash, app_hash_6);
}

TEST(AbciFakeCometBft, CrashAfterInitChainBeforeTheFirstCommitStartsOverAtHeightZero) {
  TempDir dir;
  auto alice = chain::test::make_account(1);
  auto genesis = chain::test::make_genesis({alice}, 1000);
  ab::Request init;
  init.mutable_init_chain()->set_chain_id(genesis.chain_id);
  for (const auto& v : genesis.validators) {
    auto* vu = init.mutable_init_chain()->add_validators();
    vu->mutable_pub_key()->set_ed25519(v.pub_key);
    vu->set_power(v.power);
  }
  init.mutable_init_chain()->set_app_state_bytes(genesis.app_state.dump());
  std::string first_hash;
  {
    AppProcess node(dir.path + "/state", genesis);
    FakeComet comet(node.server.port());
    first_hash = comet.consensus.call(init).init_chain().app_hash();
  }
  AppProcess node(dir.path + "/state", genesis);
  FakeComet comet(node.server.port());
  EXPECT_EQ(comet.info().last_block_height(), 0);  // so CometBFT sends InitChain again
  EXPECT_EQ(comet.consensus.call(init).init_chain().app_hash(), first_hash);
  comet.run_height(1, {});
  EXPECT_EQ(comet.info().last_block_height(), 1);
}

}  // namespace
}  // namespace node::abci
