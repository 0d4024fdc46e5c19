// POST /txs in CometBFT mode: how CometBFT's broadcast_tx_sync answers map to the node's submit result.
#include "node/abci/comet_node.h"

#include <gtest/gtest.h>

#include "chain/types/codes.h"

namespace node::abci {
namespace {

net::ClientResult answer(int status, const std::string& body) {
  return net::ClientResult{net::ClientResponse{status, body, {}}, std::nullopt};
}

const std::string kHash = "AB12";
const std::string kRpc = "http://127.0.0.1:26657";

TEST(CometBroadcast, PassesCheckTxResultsThrough) {
  auto r = submit_result_from_broadcast(
      answer(200, R"({"jsonrpc":"2.0","id":1,"result":{"code":32,"data":"","log":"account sequence mismatch",)"
                  R"("codespace":"","hash":"AB12"}})"),
      kHash, kRpc);
  EXPECT_EQ(r.code, 32u);
  EXPECT_EQ(r.log, "account sequence mismatch");
  EXPECT_EQ(r.hash, kHash);
  auto ok = submit_result_from_broadcast(answer(200, R"({"result":{"code":0,"log":"","hash":"AB12"}})"), kHash, kRpc);
  EXPECT_EQ(ok.code, 0u);
}

TEST(CometBroadcast, MapsMempoolErrorsToTheirCodes) {
  auto dup = submit_result_from_broadcast(
      answer(500, R"({"jsonrpc":"2.0","id":1,"error":{"code":-32603,"message":"Internal error",)"
                  R"("data":"tx already exists in cache"}})"),
      kHash, kRpc);
  EXPECT_EQ(dup.code, chain::codes::kTxInMempoolCache);
  auto full = submit_result_from_broadcast(
      answer(500, R"({"error":{"code":-32603,"message":"Internal error","data":"mempool is full: number of txs 5000"}})"),
      kHash, kRpc);
  EXPECT_EQ(full.code, chain::codes::kMempoolFull);
  EXPECT_NE(full.log.find("retry after the next block"), std::string::npos);
  auto other = submit_result_from_broadcast(answer(500, R"({"error":{"message":"Internal error","data":"boom"}})"),
                                            kHash, kRpc);
  EXPECT_EQ(other.code, 1u);
  EXPECT_EQ(other.log, "CometBFT refused the tx: boom");
}

TEST(CometBroadcast, ExplainsTransportFailuresAndNonsense) {
  auto down = submit_result_from_broadcast(net::ClientResult{std::nullopt, net::ClientError{"connect: Connection refused"}},
                                           kHash, kRpc);
  EXPECT_EQ(down.code, 1u);
  EXPECT_NE(down.log.find("CometBFT RPC at http://127.0.0.1:26657 did not answer"), std::string::npos) << down.log;
  EXPECT_NE(down.log.find("is cometbft running?"), std::string::npos);
  auto html = submit_result_from_broadcast(answer(502, "<html>bad gateway</html>"), kHash, kRpc);
  EXPECT_EQ(html.code, 1u);
  EXPECT_NE(html.log.find("HTTP 502"), std::string::npos);
}

}  // namespace
}  // namespace node::abci
