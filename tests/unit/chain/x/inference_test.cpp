#include "chain/x/inference/inference.h"

#include <gtest/gtest.h>

#include "chain/store/memory_store.h"
#include "chain/store/overlay.h"
#include "common/bytes.h"
#include "common/hash.h"
#include "common/requester_signature.h"
#include "inference_accounting_util.h"

using namespace chain;
using test::InferenceFixture;
using test::k32B;
using test::k7B;

namespace {
const app::TxOutcome& only(const app::FinalizeResult& r) {
  return r.tx_results.at(0);
}
}  // namespace

TEST_F(InferenceFixture, StartEscrowsFromTheEpochSnapshotAndFinishPaysTheExecutorAndRefundsTheRest) {
  form_epoch_one();
  uint64_t p = price(k7B);
  ASSERT_GT(p, 0u);
  uint64_t alice0 = balance(alice), bob0 = balance(bob);
  auto r = chain->block({start_tx(alice, "inf-1", k7B, bob, "b-1", 1000)});
  ASSERT_EQ(only(r).code, 0u) << only(r).log;
  EXPECT_EQ(balance(alice), alice0 - 1000 * p);
  EXPECT_EQ(escrow_balance(), 1000 * p);
  // A registry change after formation does not change the price of an epoch (snapshot).
  r = chain->block({finish_tx(bob, "inf-1", 30, 70)});
  ASSERT_EQ(only(r).code, 0u) << only(r).log;
  EXPECT_EQ(balance(bob), bob0 + 100 * p);
  EXPECT_EQ(balance(alice), alice0 - 100 * p);
  EXPECT_EQ(escrow_balance(), 0u);
  auto inf = x::infer::get_inference(chain->state(), "inf-1");
  ASSERT_TRUE(inf);
  EXPECT_EQ(inf->status(), inference::inference::INFERENCE_STATUS_FINISHED);
  EXPECT_EQ(inf->cost(), 100 * p);
  EXPECT_EQ(x::schedule::measure_model_throughput_for_blocks(chain->state(), k7B, 0, chain->height()), 100u);
  EXPECT_EQ(x::schedule::measure_model_throughput_for_blocks(chain->state(), k7B, 0, chain->height() - 1),
            0u);
  auto q = chain->app.query("/inference/inferences/inf-1", {});
  ASSERT_TRUE(q);
  EXPECT_EQ((*q)["inference"]["status"], "FINISHED");
  auto counts = chain->app.query("/inference/inference-counts/" + std::string(k7B), {});
  ASSERT_TRUE(counts) << counts.error().message;
  EXPECT_EQ((*counts)["tokens"], 100u);
  EXPECT_EQ((*counts)["finished"], 1u);
}

TEST_F(InferenceFixture, EscrowEdgeCasesFailWithClearErrorsAndChangeNothing) {
  form_epoch_one();
  uint64_t p = price(k7B);
  // Insufficient balance.
  auto r = chain->block({start_tx(carol, "big", k7B, bob, "b-1", 100'000'000)});
  EXPECT_EQ(only(r).code, codes::kInsufficientFunds);
  EXPECT_NE(only(r).log.find("escrow"), std::string::npos) << only(r).log;
  EXPECT_FALSE(x::infer::get_inference(chain->state(), "big"));
  // Epoch 0 had no sub-groups; an unknown model or an executor without that node is rejected.
  r = chain->block({start_tx(alice, "x1", "no/such-model", bob, "b-1", 10)});
  EXPECT_NE(only(r).code, 0u);
  EXPECT_NE(only(r).log.find("not served"), std::string::npos) << only(r).log;
  r = chain->block({start_tx(alice, "x2", k7B, carol, "c-1", 10)});
  EXPECT_NE(only(r).code, 0u);
  // The transfer agent must be a participant.
  r = chain->block({start_tx(dave, "x3", k7B, bob, "b-1", 10)});
  EXPECT_EQ(only(r).code, codes::kUnauthorized);

  ASSERT_EQ(only(chain->block({start_tx(alice, "inf-2", k7B, bob, "b-1", 50)})).code, 0u);
  // Finish by a non-executor.
  r = chain->block({finish_tx(carol, "inf-2", 1, 1)});
  EXPECT_EQ(only(r).code, codes::kUnauthorized);
  EXPECT_NE(only(r).log.find("only the executor"), std::string::npos) << only(r).log;
  // More tokens than the escrow covers.
  r = chain->block({finish_tx(bob, "inf-2", 30, 21)});
  EXPECT_NE(only(r).code, 0u);
  EXPECT_NE(only(r).log.find("exceeds max_tokens"), std::string::npos) << only(r).log;
  uint64_t bob0 = balance(bob);
  ASSERT_EQ(only(chain->block({finish_tx(bob, "inf-2", 20, 30)})).code, 0u);
  EXPECT_EQ(balance(bob), bob0 + 50 * p);
  // Double finish.
  uint64_t bob1 = balance(bob);
  r = chain->block({finish_tx(bob, "inf-2", 1, 1)});
  EXPECT_EQ(only(r).code, codes::kInferenceFinished);
  EXPECT_NE(only(r).log.find("already finished"), std::string::npos) << only(r).log;
  EXPECT_EQ(balance(bob), bob1);
  // Duplicate id.
  r = chain->block({start_tx(alice, "inf-2", k7B, bob, "b-1", 50)});
  EXPECT_EQ(only(r).code, codes::kInferenceExists);
  EXPECT_NE(only(r).log.find("already exists"), std::string::npos) << only(r).log;
}

TEST_F(InferenceFixture, ExpiryRefundsTheRequesterAndALateFinishIsRejected) {
  form_epoch_one();
  uint64_t alice0 = balance(alice);
  auto r = chain->block({start_tx(alice, "slow", k32B, carol, "c-1", 10)});
  ASSERT_EQ(only(r).code, 0u) << only(r).log;
  uint64_t start = chain->height();
  auto inf = x::infer::get_inference(chain->state(), "slow");
  uint64_t expiry = inf->expiry_height();
  EXPECT_EQ(expiry, start + x::schedule::default_params().inference_expiration_blocks());
  EXPECT_LT(balance(alice), alice0);
  auto events = run_until(expiry);
  EXPECT_EQ(test::TestChain::event_values(events, "inference_expired", "inference_id"),
            std::vector<std::string>{"slow"});
  EXPECT_EQ(balance(alice), alice0);
  EXPECT_EQ(escrow_balance(), 0u);
  EXPECT_EQ(x::infer::get_inference(chain->state(), "slow")->status(),
            inference::inference::INFERENCE_STATUS_EXPIRED);
  r = chain->block({finish_tx(carol, "slow", 1, 1)});
  EXPECT_NE(only(r).code, 0u);
  EXPECT_NE(only(r).log.find("expired"), std::string::npos) << only(r).log;
  EXPECT_EQ(balance(alice), alice0);
  // Nothing counted for an expired inference.
  EXPECT_EQ(x::schedule::measure_model_throughput_for_blocks(chain->state(), k32B, 0, chain->height()), 0u);
}

// What a requester signs (issue 12 item 1): chain id, transfer agent, timestamp, body hash. Not the executor,
// which the transfer agent picks after the request arrived.
TEST_F(InferenceFixture, AnotherRequesterMustSignTheStart) {
  form_epoch_one();
  // dave gets a public key on chain by signing a send.
  ASSERT_EQ(chain->deliver(test::send_tx(dave, val, 1)).code, 0u);
  std::string body = R"({"model":"m","messages":[{"role":"user","content":"hi"}]})";
  std::string body_hash = common::sha256(body);
  auto next_block_ms = [&] { return test::block_at(chain->height() + 1).time_unix_ms; };
  auto signed_start = [&](const std::string& id, const test::TestAccount& signer, uint64_t ts,
                          const std::string& transfer_agent, const std::string& hash) {
    std::string sig = common::requester_signature::sign(signer.key, test::kChainId, transfer_agent, ts, hash);
    return start_tx(alice, id, k7B, bob, "b-1", 10, dave.bech32, sig, body_hash, ts);
  };
  uint64_t dave0 = balance(dave);
  auto refused = [&](const std::string& tx, const std::string& why) {
    auto r = chain->block({tx});
    EXPECT_EQ(only(r).code, codes::kUnauthorized) << why << ": " << only(r).log;
    EXPECT_EQ(balance(dave), dave0) << why;
  };
  uint64_t now = static_cast<uint64_t>(next_block_ms());
  refused(signed_start("bad-key", carol, now, alice.bech32, body_hash), "another key");
  refused(signed_start("bad-ta", dave, now + 1000, carol.bech32, body_hash),
          "signed for another transfer agent");
  refused(signed_start("bad-hash", dave, now + 2000, alice.bech32, common::sha256("other")), "another body");
  {
    // Signed for another chain.
    std::string sig =
        common::requester_signature::sign(dave.key, "other-chain", alice.bech32, now, body_hash);
    refused(start_tx(alice, "bad-chain", k7B, bob, "b-1", 10, dave.bech32, sig, body_hash, now),
            "other chain");
  }
  uint64_t skew = common::requester_signature::kMaxRequestSkewMs;
  uint64_t stale = static_cast<uint64_t>(next_block_ms()) - skew - 1;
  refused(signed_start("stale", dave, stale, alice.bech32, body_hash), "stale");
  uint64_t future = static_cast<uint64_t>(next_block_ms()) + skew + 1;
  refused(signed_start("future", dave, future, alice.bech32, body_hash), "future");
  EXPECT_FALSE(x::infer::get_inference(chain->state(), "stale"));

  // The right signature, just at the edge of the window, is accepted and dave pays.
  uint64_t edge = static_cast<uint64_t>(next_block_ms()) - skew;
  std::string good = signed_start("for-dave", dave, edge, alice.bech32, body_hash);
  auto r = chain->block({good});
  ASSERT_EQ(only(r).code, 0u) << only(r).log;
  EXPECT_EQ(balance(dave), dave0 - 10 * price(k7B));
  auto inf = x::infer::get_inference(chain->state(), "for-dave");
  ASSERT_TRUE(inf);
  EXPECT_EQ(inf->requester(), dave.address);
  EXPECT_EQ(inf->transfer_agent(), alice.address);

  // The same signed request again under a new inference id is a replay.
  uint64_t dave1 = balance(dave);
  r = chain->block(
      {start_tx(alice, "again", k7B, bob, "b-1", 10, dave.bech32,
                common::requester_signature::sign(dave.key, test::kChainId, alice.bech32, edge, body_hash),
                body_hash, edge)});
  EXPECT_NE(only(r).code, 0u);  // stale by now or a replay: never accepted twice
  EXPECT_EQ(balance(dave), dave1);
  uint64_t fresh = static_cast<uint64_t>(next_block_ms());
  ASSERT_TRUE(only_ok(chain->block({signed_start("fresh-1", dave, fresh, alice.bech32, body_hash)})));
  r = chain->block({signed_start("fresh-2", dave, fresh, alice.bech32, body_hash)});
  EXPECT_EQ(only(r).code, codes::kUnauthorized);
  EXPECT_NE(only(r).log.find("replay"), std::string::npos) << only(r).log;
  EXPECT_FALSE(x::infer::get_inference(chain->state(), "fresh-2"));

  // Request fields without a separate requester are malformed.
  r = chain->block({start_tx(alice, "own", k7B, bob, "b-1", 10, "", "", body_hash, fresh)});
  EXPECT_NE(only(r).code, 0u);
}

TEST(RequesterSignature, UsedRequestsArePrunedOnceOutsideTheWindow) {
  store::MemoryStore base;
  store::Overlay s(base);
  std::string who(20, 'd');
  for (uint64_t ts : {1000u, 2000u, 3000u}) {
    s.set("inference/req/" + common::be64(ts) + who + std::string(32, 'h'), "id");
  }
  int64_t skew = static_cast<int64_t>(common::requester_signature::kMaxRequestSkewMs);
  EXPECT_EQ(x::infer::prune_used_requests(s, 2000 + skew, 1000), 1u);  // only ts 1000 < 2000 is out
  EXPECT_EQ(x::infer::prune_used_requests(s, 10'000 + skew, 1), 1u);   // bounded per call
  EXPECT_EQ(x::infer::prune_used_requests(s, 10'000 + skew, 1000), 1u);
  EXPECT_FALSE(s.get("inference/req/" + common::be64(3000) + who + std::string(32, 'h')));
}

// Issue 13 fault 7: finished inferences leave state once inference_retention_epochs (2) newer epochs are
// effective.
TEST_F(InferenceFixture, FinishedAndExpiredInferencesArePrunedAfterTheRetention) {
  form_epoch_one();
  ASSERT_TRUE(only_ok(chain->block({start_tx(alice, "done-1", k7B, bob, "b-1", 100)})));
  ASSERT_TRUE(only_ok(chain->block({finish_tx(bob, "done-1", 10, 10)})));
  ASSERT_TRUE(only_ok(chain->block({start_tx(alice, "expires-1", k7B, bob, "b-1", 100)})));
  run_until(58);  // epoch 2 effective at 57: epoch 1's records are kept
  ASSERT_EQ(x::epochs::effective_epoch_index(chain->state()), 2u);
  EXPECT_EQ(x::infer::get_inference(chain->state(), "done-1")->status(),
            ::inference::inference::INFERENCE_STATUS_FINISHED);
  EXPECT_EQ(x::infer::get_inference(chain->state(), "expires-1")->status(),
            ::inference::inference::INFERENCE_STATUS_EXPIRED);
  run_until(88);  // epoch 3 effective at 87: epoch 1 is 2 epochs old
  ASSERT_EQ(x::epochs::effective_epoch_index(chain->state()), 3u);
  EXPECT_FALSE(x::infer::get_inference(chain->state(), "done-1").has_value());
  EXPECT_FALSE(x::infer::get_inference(chain->state(), "expires-1").has_value());
  bool left = false;
  chain->state().scan_prefix("inference/done/", [&](std::string_view, std::string_view) {
    left = true;
    return false;
  });
  EXPECT_FALSE(left);
  // The balances stay as settled: the record is history, the money moved long ago.
  EXPECT_EQ(escrow_balance(), 0u);
}

TEST(InferencePruning, IsBoundedPerBlockAndNeverTouchesRunningInferences) {
  store::MemoryStore base;
  store::Overlay s(base);
  for (int i = 0; i < 5; ++i) {
    std::string id = "i" + std::to_string(i);
    s.set("inference/inf/" + id, "x");
    s.set("inference/done/" + common::be64(1) + id, "");
  }
  s.set("inference/inf/running", "x");  // started, never indexed as done
  EXPECT_EQ(x::infer::prune_done_inferences_before(s, 2, 3), 3u);
  EXPECT_EQ(x::infer::prune_done_inferences_before(s, 2, 3), 2u);
  EXPECT_EQ(x::infer::prune_done_inferences_before(s, 2, 3), 0u);
  EXPECT_TRUE(s.get("inference/inf/running").has_value());
  EXPECT_FALSE(s.get("inference/inf/i4").has_value());
}

// Seed 3.7: the governance pricing is every registered model at the unit price the next formation uses.
TEST_F(InferenceFixture, GovernancePricingQueryPricesEveryRegisteredModelForTheNextEpoch) {
  form_epoch_one();
  auto q = chain->app.query("/inference/governance/pricing", {});
  ASSERT_TRUE(q) << q.error().message;
  auto params = chain->app.query("/inference/epoch-params", {});
  ASSERT_TRUE(params);
  uint64_t unit = (*params)["params"]["default_unit_of_compute_price"].get<uint64_t>();
  EXPECT_EQ((*q)["unit_of_compute_price"].get<uint64_t>(), unit);
  // Unchanged by governance: the upcoming epoch's params (once its PoC started) equal the governance ones.
  EXPECT_TRUE((*q)["source"] == "governance_params" || (*q)["source"] == "upcoming_epoch_params")
      << q->dump();
  auto models = chain->app.query("/inference/governance/models", {});
  ASSERT_TRUE(models);
  ASSERT_EQ((*q)["models"].size(), (*models)["models"].size());
  ASSERT_GE((*q)["models"].size(), 2u);
  for (size_t i = 0; i < (*q)["models"].size(); ++i) {
    const auto& m = (*q)["models"][i];
    const auto& g = (*models)["models"][i];
    EXPECT_EQ(m["id"], g["id"]);
    uint64_t uoc = g["units_of_compute_per_token"].get<uint64_t>();
    EXPECT_EQ(m["units_of_compute_per_token"].get<uint64_t>(), uoc);
    EXPECT_EQ(m["price_per_token"], std::to_string(uoc * unit));
  }
}
