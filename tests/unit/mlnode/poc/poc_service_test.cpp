#include "mlnode/poc/poc_service.h"

#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <thread>

namespace mlnode::poc {
namespace {

using namespace std::chrono_literals;

// Records every callback; optionally fails the first `fail_first` posts.
struct FakeCallback {
  std::mutex mu;
  std::vector<std::pair<std::string, nlohmann::json>> posts;
  int fail_first = 0;
  bool refuse_all = false;  // answer every post as refused for good (410)
  std::set<uint64_t> refused_nonces;
  Poster poster() {
    return [this](const std::string& url, const std::string& body) {
      std::lock_guard lock(mu);
      if (refuse_all) {
        const auto j = nlohmann::json::parse(body);
        for (const auto& n : j.at("nonces")) refused_nonces.insert(n.get<uint64_t>());
        return PostOutcome::kRefused;
      }
      if (fail_first > 0) {
        --fail_first;
        return PostOutcome::kRetry;
      }
      posts.emplace_back(url, nlohmann::json::parse(body));
      return PostOutcome::kDelivered;
    };
  }
  std::vector<nlohmann::json> bodies(const std::string& suffix) {
    std::lock_guard lock(mu);
    std::vector<nlohmann::json> out;
    for (auto& [url, body] : posts)
      if (url.ends_with(suffix)) out.push_back(body);
    return out;
  }
};

template <typename F>
bool eventually(F f, std::chrono::milliseconds timeout = 20s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (f()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return f();
}

InitRequest init(int64_t node_id, int64_t node_count) {
  InitRequest r;
  r.node_id = node_id;
  r.node_count = node_count;
  r.block_hash = "ABC123";
  r.block_height = 7;
  r.public_key = "02pk";
  r.batch_size = 10;
  r.url = "http://callback";
  r.params.dim = 32;
  r.params.n_layers = 1;
  r.params.ffn_dim = 32;
  r.params.vocab_size = 64;
  r.params.seq_len = 2;
  return r;
}

std::size_t hit_count(FakeCallback& cb) {
  std::size_t n = 0;
  for (const auto& b : cb.bodies("/generated")) n += b["nonces"].size();
  return n;
}

TEST(PocService, TwoNodesOfOneParticipantNeverProduceTheSameNonce) {
  FakeCallback cb;
  PocService a({2, 20ms}, cb.poster());
  PocService b({1, 20ms}, cb.poster());
  ASSERT_TRUE(a.init_generate(init(0, 2)).ok());
  ASSERT_TRUE(b.init_generate(init(1, 2)).ok());
  ASSERT_TRUE(eventually([&] { return hit_count(cb) > 200; }));
  a.stop();
  b.stop();
  std::set<uint64_t> seen;
  for (const auto& body : cb.bodies("/generated")) {
    EXPECT_EQ(body["block_height"], 7);
    ASSERT_EQ(body["nonces"].size(), body["dist"].size());
    for (std::size_t i = 0; i < body["nonces"].size(); ++i) {
      const uint64_t nonce = body["nonces"][i];
      EXPECT_TRUE(seen.insert(nonce).second) << "nonce " << nonce << " reported twice";
      EXPECT_EQ(nonce % 2, body["node_id"].get<uint64_t>()) << "nonce outside the node's range";
      EXPECT_LT(body["dist"][i].get<double>(), init(0, 2).r_target);
    }
  }
}

TEST(PocService, FailedCallbacksAreRetried) {
  FakeCallback cb;
  cb.fail_first = 3;
  PocService s({1, 10ms}, cb.poster());
  ASSERT_TRUE(s.init_generate(init(0, 1)).ok());
  ASSERT_TRUE(eventually([&] { return hit_count(cb) > 0; }));
  EXPECT_GE(s.counters().callback_failures.load(), 3u);
}

TEST(PocService, CallbackStatusesFollowTheContractWithDapi) {
  EXPECT_EQ(post_outcome_of_status(200), PostOutcome::kDelivered);
  EXPECT_EQ(post_outcome_of_status(410), PostOutcome::kRefused);
  for (int status : {400, 403, 404, 409, 413, 500, 503})
    EXPECT_EQ(post_outcome_of_status(status), PostOutcome::kRetry);
}

TEST(PocService, CallbacksRefusedForGoodAreDroppedNotRetried) {
  FakeCallback cb;
  cb.refuse_all = true;  // dapi answers 410: the batch window closed
  PocService s({1, 10ms}, cb.poster());
  ASSERT_TRUE(s.init_generate(init(0, 1)).ok());
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(cb.mu);
    return !cb.refused_nonces.empty();
  })) << "hits "
      << s.counters().hits.load() << " refused " << s.counters().callbacks_refused.load() << " failures "
      << s.counters().callback_failures.load() << " sent " << s.counters().batches_sent.load();
  {
    std::lock_guard lock(cb.mu);
    cb.refuse_all = false;
  }
  ASSERT_TRUE(eventually([&] { return hit_count(cb) > 0; }));
  s.stop();
  EXPECT_GT(s.counters().callbacks_refused.load(), 0u);
  EXPECT_EQ(s.counters().callback_failures.load(), 0u);
  std::lock_guard lock(cb.mu);
  for (const auto& [url, body] : cb.posts) {
    for (const auto& n : body["nonces"]) {
      EXPECT_FALSE(cb.refused_nonces.count(n.get<uint64_t>())) << "a refused nonce was posted again: " << n;
    }
  }
}

TEST(PocService, ValidationFindsHonestBatchesHonestAndTamperedOnesFraudulent) {
  FakeCallback cb;
  PocService prover({2, 10ms}, cb.poster());
  ASSERT_TRUE(prover.init_generate(init(0, 1)).ok());
  ASSERT_TRUE(eventually([&] { return hit_count(cb) >= 300; }));
  prover.stop();
  ProofBatch honest{"02pk", "ABC123", 7, {}, {}, 0};
  for (const auto& body : cb.bodies("/generated")) {
    for (std::size_t i = 0; i < body["nonces"].size(); ++i) {
      honest.nonces.push_back(body["nonces"][i]);
      honest.dist.push_back(body["dist"][i]);
    }
  }
  ProofBatch tampered = honest;
  for (std::size_t i = 0; i < tampered.dist.size(); i += 50) tampered.dist[i] *= 0.9;  // 2% altered

  PocService validator({2, 10ms}, cb.poster());
  EXPECT_EQ(validator.validate(honest).error().code, 409u) << "validate before init/validate is a conflict";
  ASSERT_TRUE(validator.init_validate(init(-1, -1)).ok());
  ProofBatch other_block = honest;
  other_block.block_hash = "OTHER";
  EXPECT_EQ(validator.validate(other_block).error().code, 400u);
  ASSERT_TRUE(validator.validate(honest).ok());
  ASSERT_TRUE(validator.validate(tampered).ok());
  ASSERT_TRUE(eventually([&] { return cb.bodies("/validated").size() == 2; }));
  const auto results = cb.bodies("/validated");
  EXPECT_EQ(results[0]["n_invalid"], 0);
  EXPECT_EQ(results[0]["fraud_detected"], false);
  EXPECT_EQ(results[1]["n_invalid"].get<std::size_t>(), (tampered.dist.size() + 49) / 50);
  EXPECT_EQ(results[1]["fraud_detected"], true);
  EXPECT_EQ(results[1]["received_dist"].size(), tampered.nonces.size());
}

TEST(PocService, GeneratingAgainForTheSameStageContinuesWithNewNonces) {
  FakeCallback cb;
  PocService s({1, 10ms}, cb.poster());
  ASSERT_TRUE(s.init_generate(init(0, 1)).ok());
  ASSERT_TRUE(eventually([&] { return hit_count(cb) > 20; }));
  s.stop();
  const std::size_t first_round = hit_count(cb);
  ASSERT_TRUE(s.init_generate(init(0, 1)).ok());
  ASSERT_TRUE(eventually([&] { return hit_count(cb) > first_round + 20; }));
  s.stop();
  std::set<uint64_t> seen;
  for (const auto& body : cb.bodies("/generated"))
    for (const auto& n : body["nonces"]) EXPECT_TRUE(seen.insert(n.get<uint64_t>()).second) << n;
}

// Issue 14, fault 8: the validation queue had no bound.
TEST(PocService, ValidationBacklogIsBounded) {
  FakeCallback cb;
  PocServiceOptions options;
  options.threads = 1;
  options.send_interval = 1h;  // results stay pending, so they count against the bound
  options.max_validation_batches = 2;
  PocService s(options, cb.poster());
  ASSERT_TRUE(s.init_validate(init(-1, -1)).ok());
  const ProofBatch batch{"02pk", "ABC123", 7, {1, 2, 3}, {0.1, 0.2, 0.3}, 0};
  ASSERT_TRUE(s.validate(batch).ok());
  ASSERT_TRUE(s.validate(batch).ok());
  const auto full = s.validate(batch);
  ASSERT_FALSE(full.ok());
  EXPECT_EQ(full.error().code, 503u);
  EXPECT_NE(full.error().message.find("limit 2"), std::string::npos) << full.error().message;
  ProofBatch other_height = batch;
  other_height.block_height = 8;
  EXPECT_EQ(s.validate(other_height).error().code, 400u);
}

// Issue 14, fault 8: hits found but not yet sent were merged into the next stage's batch and could be sent
// under the wrong block hash. Pending work is keyed by stage and dropped when a new stage starts.
TEST(PocService, HitsOfAnEarlierStageAreNeverSentAfterANewStageStarts) {
  FakeCallback cb;
  cb.fail_first = 1 << 30;  // the callback is down: hits of stage ABC123 stay pending
  PocService s({1, 10ms}, cb.poster());
  ASSERT_TRUE(s.init_generate(init(0, 1)).ok());
  ASSERT_TRUE(
      eventually([&] { return s.counters().hits.load() > 20 && s.counters().callback_failures.load() > 1; }));
  InitRequest next = init(0, 1);
  next.block_hash = "DEF456";
  next.block_height = 8;
  ASSERT_TRUE(s.init_generate(next).ok());
  {
    std::lock_guard lock(cb.mu);
    cb.fail_first = 0;  // the callback is back
  }
  ASSERT_TRUE(eventually([&] { return hit_count(cb) > 20; }));
  s.stop();
  const PocCompute compute("DEF456", next.params);
  for (const auto& body : cb.bodies("/generated")) {
    EXPECT_EQ(body["block_hash"], "DEF456");
    EXPECT_EQ(body["block_height"], 8);
    for (std::size_t i = 0; i < body["nonces"].size(); i += 7) {
      EXPECT_NEAR(compute.distance("02pk", body["nonces"][i].get<uint64_t>()), body["dist"][i].get<double>(),
                  1e-12)
          << "a nonce of the earlier stage was sent under DEF456";
    }
  }
}

TEST(PocService, GenerateRequiresAValidNodeRange) {
  FakeCallback cb;
  PocService s({1, 10ms}, cb.poster());
  auto st = s.init_generate(init(-1, -1));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, 400u);
  EXPECT_EQ(s.phase(), PocPhase::kIdle);
}

}  // namespace
}  // namespace mlnode::poc
