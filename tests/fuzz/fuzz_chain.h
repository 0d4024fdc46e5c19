// A small committed chain for the fuzz targets: genesis with two funded accounts and one block, driven
// through the node's ABCI handler exactly as CometBFT drives it. Built once per process (the targets must not
// depend on the order of inputs, so they only read it or use its CheckTx view, which each commit would
// reset).
#pragma once

#include <cstdlib>
#include <memory>
#include <mutex>

#include "abci/types.pb.h"
#include "chain/app/app.h"
#include "chain/app/test_chain.h"
#include "chain/store/memory_store.h"
#include "node/abci/app_handler.h"

namespace fuzz {

inline void check(bool ok) {
  if (!ok) std::abort();
}

struct FuzzChain {
  chain::store::MemoryStore store{/*history=*/2};
  chain::app::App app{store};
  std::mutex mu;
  chain::test::TestAccount alice = chain::test::make_account(1);
  chain::test::TestAccount bob = chain::test::make_account(2);
  chain::app::Genesis genesis = chain::test::make_genesis({alice, bob}, 1000000);
  node::abci::AppHandler handler{app, store, mu, nullptr, node::abci::AppHandlerOptions{genesis, "0.1.0", 1}};

  FuzzChain() {
    check(app.init_chain(genesis).ok());
    for (uint64_t h = 1; h <= 2; ++h) {
      std::vector<std::string> txs;
      if (h == 2) txs.push_back(chain::test::send_tx(alice, bob, 7));
      app.finalize_block(chain::test::block_at(h), txs);
      app.commit();
    }
  }

  tendermint::abci::Response handle(const tendermint::abci::Request& req) {
    tendermint::abci::Response res;
    handler.handle(req, res);
    return res;
  }
};

inline FuzzChain& chain() {
  static FuzzChain* c = new FuzzChain();  // never destroyed: libFuzzer exits without running destructors
  return *c;
}

}  // namespace fuzz
