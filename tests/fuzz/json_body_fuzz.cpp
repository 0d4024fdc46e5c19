// libFuzzer target for every JSON body the node accepts from outside:
//   selector 0: POST /txs {"tx": base64}            (node::rpc::tx_bytes_from_body)
//   selector 1: genesis.json                         (chain::app::Genesis::from_json, then App::init_chain)
//   selector 2: InitChain app_state_bytes            (node::abci::genesis_from_init_chain)
//   selector 3: abci_query data (JSON parameters)    (AppHandler Query)
//   selector 4: CometBFT's broadcast_tx_sync answer  (node::abci::submit_result_from_broadcast)
// Input: byte 0 mod 5 is the selector, the rest the body.
// Properties (a violation aborts): nothing throws, refusals carry a message, messages are valid UTF-8 once
// made printable, and whatever is accepted serialises back to JSON.
#include <cstddef>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "chain/store/memory_store.h"
#include "common/json_text.h"
#include "fuzz_chain.h"
#include "node/abci/comet_node.h"
#include "node/rpc/tx_body.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  using fuzz::check;
  if (size == 0) return 0;
  const int selector = data[0] % 5;
  const std::string body(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (selector) {
    case 0: {
      auto tx = node::rpc::tx_bytes_from_body(body);
      if (!tx) check(!tx.error().code.empty() && !tx.error().message.empty());
      if (!tx) check(common::is_valid_utf8(tx.error().message));
      break;
    }
    case 1: {
      auto j = nlohmann::json::parse(body, nullptr, false);
      if (j.is_discarded()) break;
      auto g = chain::app::Genesis::from_json(j);
      if (!g) {
        check(!g.error().message.empty());
        break;
      }
      common::json_dump(g->to_json());
      chain::store::MemoryStore store;
      chain::app::App app(store);
      auto hash = app.init_chain(*g);
      if (!hash) check(!hash.error().message.empty());
      break;
    }
    case 2: {
      tendermint::abci::RequestInitChain req;
      req.set_chain_id("test-chain");
      req.set_app_state_bytes(body);
      auto* v = req.add_validators();
      v->mutable_pub_key()->set_ed25519(fuzz::chain().genesis.validators[0].pub_key);
      v->set_power(10);
      auto g = node::abci::genesis_from_init_chain(req, fuzz::chain().genesis);
      if (!g) check(!g.error().message.empty());
      break;
    }
    case 3: {
      tendermint::abci::Request req;
      req.mutable_query()->set_path("/bank/balances/" + fuzz::chain().bob.bech32);
      req.mutable_query()->set_data(body);
      auto res = fuzz::chain().handle(req);
      check(!res.has_exception());
      check(common::is_valid_utf8(res.query().log()));
      break;
    }
    case 4: {
      net::ClientResult answer;
      answer.response = net::ClientResponse{200, body, {}};
      auto r = node::abci::submit_result_from_broadcast(answer, "00", "http://127.0.0.1:26657");
      if (r.code != 0) check(!r.log.empty());
      common::json_dump(nlohmann::json{{"code", r.code}, {"log", r.log}, {"txhash", r.hash}});
      break;
    }
  }
  return 0;
}
