#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "../broker/fake_driver.h"
#include "api/poc/callbacks.h"
#include "api/poc/messages.h"
#include "api/poc/model_loading.h"
#include "api/poc/node_index.h"
#include "api/poc/validation.h"
#include "common/bech32.h"
#include "common/hash.h"
#include "common/secp256k1.h"
#include "inference/poc.pb.h"

namespace api::poc {
namespace {

using nlohmann::json;

std::string key33(char fill) {
  auto k = common::secp256k1::private_key_from_bytes(std::string(32, fill));
  return common::secp256k1::public_key(*k);
}

TEST(AssignPocNodes, SortedStableNonOverlappingIndices) {
  auto a = assign_poc_nodes(40, {"gpu-b", "gpu-a", "gpu-c", "gpu-a"});
  EXPECT_EQ(a.node_count, 3);
  EXPECT_EQ(a.index("gpu-a"), 0);
  EXPECT_EQ(a.index("gpu-b"), 1);
  EXPECT_EQ(a.index("gpu-c"), 2);
  EXPECT_EQ(a.index("gpu-x"), std::nullopt);
  EXPECT_EQ(a.node_at(2), "gpu-c");
  EXPECT_EQ(a.node_at(3), std::nullopt);
  // Nonce ranges i, i+n, ... of distinct indices with one count never meet.
  std::set<uint64_t> seen;
  for (const auto& [id, i] : a.index_of) {
    for (uint64_t x = 0; x < 100; ++x) EXPECT_TRUE(seen.insert(i + x * a.node_count).second);
  }
  EXPECT_EQ(assign_poc_nodes(40, {}).node_count, 0);
}

class GeneratedCallback : public ::testing::Test {
 protected:
  GeneratedCallback() {
    ctx.creator = "gonka1me";
    ctx.public_key_hex = poc_public_key_hex(key33(1));
    ctx.assignment = assign_poc_nodes(40, {"n1", "n2"});
  }
  json body(int64_t node = 1) {
    return {{"public_key", ctx.public_key_hex},
            {"block_hash", "AB"},
            {"block_height", 40},
            {"nonces", {7, 3}},
            {"dist", {0.5, 1.0}},
            {"node_id", node}};
  }
  GeneratedContext ctx;
};

TEST_F(GeneratedCallback, BecomesMsgSubmitPocBatchWithTheNodeId) {
  auto m = parse_generated_callback(body().dump(), ctx);
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->node_id, "n2");
  EXPECT_EQ(m->creator, "gonka1me");
  EXPECT_EQ(m->poc_stage_start_block_height, 40u);
  EXPECT_EQ(m->nonces, (std::vector<uint64_t>{7, 3}));
  EXPECT_EQ(m->batch_id.size(), 32u);
  // The same batch re-posted gets the same id; another node's does not.
  EXPECT_EQ(parse_generated_callback(body().dump(), ctx)->batch_id, m->batch_id);
  EXPECT_NE(parse_generated_callback(body(0).dump(), ctx)->batch_id, m->batch_id);
  // Encodes as the chain's message.
  auto tx = to_tx_message(*m);
  EXPECT_EQ(tx.type_url, "/inference.inference.MsgSubmitPocBatch");
  inference::inference::MsgSubmitPocBatch p;
  ASSERT_TRUE(p.ParseFromString(tx.value));
  EXPECT_EQ(p.node_id(), "n2");
  EXPECT_EQ(p.nonces_size(), 2);
  EXPECT_EQ(p.batch_id(), m->batch_id);
}

TEST_F(GeneratedCallback, RejectsBadInputWithTheRightStatus) {
  auto code = [&](const std::string& b) {
    auto r = parse_generated_callback(b, ctx);
    return r.ok() ? 200u : r.error().code;
  };
  EXPECT_EQ(code("not json"), 400u);
  EXPECT_EQ(code("[1]"), 400u);
  json j = body();
  j["public_key"] = poc_public_key_hex(key33(2));
  EXPECT_EQ(code(j.dump()), 403u) << "a foreign public key";
  EXPECT_EQ(code(body(2).dump()), 404u) << "unknown node index";
  EXPECT_EQ(code(body(-1).dump()), 404u);
  j = body();
  j["block_height"] = 10;
  EXPECT_EQ(code(j.dump()), 410u) << "an earlier PoC: refused for good";
  j["block_height"] = 70;
  EXPECT_EQ(code(j.dump()), 409u) << "a later PoC than dapi's: the MLNode retries";
  j = body();
  j["dist"] = {0.5};
  EXPECT_EQ(code(j.dump()), 400u) << "lengths differ";
  j = body();
  j["dist"] = {0.5, -1.0};
  EXPECT_EQ(code(j.dump()), 400u) << "negative dist";
  j = body();
  j["nonces"] = {-7, 3};
  EXPECT_EQ(code(j.dump()), 400u);
  j = body();
  j["nonces"] = json::array();
  j["dist"] = json::array();
  EXPECT_EQ(code(j.dump()), 400u) << "empty batch";
  j = body();
  j.erase("node_id");
  EXPECT_EQ(code(j.dump()), 400u);
  ctx.max_body_bytes = 20;
  EXPECT_EQ(code(body().dump()), 413u);
}

TEST(SplitPocBatch, KeepsOrderAndGivesEachPartItsOwnId) {
  SubmitPocBatch b{"me", 40, "", {1, 2, 3, 4, 5}, {0.1, 0.2, 0.3, 0.4, 0.5}, "n1"};
  b.batch_id = poc_batch_id("n1", 40, b.nonces);
  auto same = split_poc_batch(b, 5);
  ASSERT_EQ(same.size(), 1u);
  EXPECT_EQ(same[0], b);
  auto parts = split_poc_batch(b, 2);
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[0].nonces, (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(parts[2].nonces, (std::vector<uint64_t>{5}));
  EXPECT_EQ(parts[2].dist, (std::vector<double>{0.5}));
  EXPECT_EQ(parts[1].batch_id, poc_batch_id("n1", 40, {3, 4}));
  EXPECT_NE(parts[0].batch_id, parts[1].batch_id);
  EXPECT_EQ(parts[1].node_id, "n1");
  EXPECT_EQ(split_poc_batch(b, 0).size(), 5u);
}

class RecordingSink : public PocSink {
 public:
  std::vector<SubmitPocBatch> batches;
  std::vector<SubmitPocValidation> validations;
  bool fail = false;
  common::Status enqueue_batch(const SubmitPocBatch& b) override {
    if (fail) return common::make_error(1, "disk full");
    batches.push_back(b);
    return {};
  }
  common::Status enqueue_validation(const SubmitPocValidation& v) override {
    if (fail) return common::make_error(1, "disk full");
    validations.push_back(v);
    return {};
  }
};

TEST_F(GeneratedCallback, AcknowledgedOnlyOnceQueued) {
  RecordingSink sink;
  auto r = handle_generated_callback(body().dump(), ctx, sink);
  EXPECT_EQ(r.status, 200);
  ASSERT_EQ(sink.batches.size(), 1u);
  EXPECT_EQ(json::parse(r.body)["batch_id"], sink.batches[0].batch_id);
  // Above the chain's per-message limit: queued as several messages.
  ctx.max_nonces_per_message = 1;
  r = handle_generated_callback(body().dump(), ctx, sink);
  EXPECT_EQ(r.status, 200);
  ASSERT_EQ(sink.batches.size(), 3u);
  EXPECT_EQ(json::parse(r.body)["batch_ids"].size(), 2u);
  EXPECT_EQ(sink.batches[1].nonces, (std::vector<uint64_t>{7}));
  EXPECT_EQ(sink.batches[2].nonces, (std::vector<uint64_t>{3}));
  sink.batches.resize(1);
  sink.fail = true;
  r = handle_generated_callback(body().dump(), ctx, sink);
  EXPECT_EQ(r.status, 503) << "not queued: the MLNode must retry";
  r = handle_generated_callback("{", ctx, sink);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(json::parse(r.body)["error"]["code"], "invalid_request");
  EXPECT_EQ(sink.batches.size(), 1u);
}

TEST_F(GeneratedCallback, AfterTheBatchWindowBodyChecksComeFirstThenGone) {
  RecordingSink sink;
  ctx.batch_window_end = 60;  // poc_exchange_end: the last block that may include a batch
  ctx.height = 59;            // the tx can still land in block 60
  EXPECT_EQ(handle_generated_callback(body().dump(), ctx, sink).status, 200);
  ASSERT_EQ(sink.batches.size(), 1u);
  ctx.height = 60;  // it would land in block 61 at the earliest
  auto r = handle_generated_callback(body(0).dump(), ctx, sink);
  EXPECT_EQ(r.status, 410);
  EXPECT_EQ(json::parse(r.body)["error"]["code"], "window_closed");
  EXPECT_NE(json::parse(r.body)["error"]["message"].get<std::string>().find("do not resend"),
            std::string::npos);
  // Malformed callbacks get their own 4xx whenever they come (tests/functional/dapi_crash_restart_poc.py).
  EXPECT_EQ(handle_generated_callback("{not json", ctx, sink).status, 400);
  json foreign = body();
  foreign["public_key"] = poc_public_key_hex(key33(2));
  EXPECT_EQ(handle_generated_callback(foreign.dump(), ctx, sink).status, 403);
  EXPECT_EQ(handle_generated_callback(body(5).dump(), ctx, sink).status, 404);
  ctx.max_body_bytes = 10;
  EXPECT_EQ(handle_generated_callback(body().dump(), ctx, sink).status, 413);
  EXPECT_EQ(sink.batches.size(), 1u) << "nothing queued after the window";
}

TEST_F(GeneratedCallback, WithoutAPocTheBodyIsStillCheckedFirst) {
  RecordingSink sink;
  ctx.assignment = PocAssignment{};  // dapi has seen no PoC start
  EXPECT_EQ(handle_generated_callback("[", ctx, sink).status, 400);
  json foreign = body();
  foreign["public_key"] = poc_public_key_hex(key33(2));
  EXPECT_EQ(handle_generated_callback(foreign.dump(), ctx, sink).status, 403);
  auto r = handle_generated_callback(body().dump(), ctx, sink);
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(json::parse(r.body)["error"]["code"], "wrong_poc");
  EXPECT_TRUE(sink.batches.empty());
}

TEST(ValidatedCallback, AfterTheValidationWindowItIsGoneAndNothingIsQueued) {
  ValidatedContext ctx;
  ctx.creator = "gonka1me";
  ctx.hrp = "gonka";
  ctx.poc_start_height = 40;
  ctx.validation_end = 53;
  ctx.height = 53;
  json j = {{"public_key", poc_public_key_hex(key33(3))},
            {"block_hash", "AB"},
            {"block_height", 40},
            {"nonces", {1, 2}},
            {"dist", {0.1, 0.2}},
            {"node_id", 0},
            {"n_invalid", 0},
            {"fraud_detected", false}};
  RecordingSink sink;
  auto r = handle_validated_callback(j.dump(), ctx, sink);
  EXPECT_EQ(r.status, 410);
  EXPECT_EQ(json::parse(r.body)["error"]["code"], "window_closed");
  EXPECT_EQ(handle_validated_callback(R"({"public_key": 7})", ctx, sink).status, 400) << "body checks first";
  ctx.height = 52;
  EXPECT_EQ(handle_validated_callback(j.dump(), ctx, sink).status, 200);
  EXPECT_EQ(sink.validations.size(), 1u);
}

TEST(ValidatedCallback, BecomesMsgSubmitPocValidationForTheProver) {
  const std::string prover = key33(3);
  const std::string prover_address =
      common::bech32::encode("gonka", common::ripemd160(common::sha256(prover)));
  ValidatedContext ctx;
  ctx.creator = "gonka1me";
  ctx.hrp = "gonka";
  ctx.poc_start_height = 40;
  json j = {{"public_key", poc_public_key_hex(prover)},
            {"block_hash", "AB"},
            {"block_height", 40},
            {"nonces", {1, 2, 3}},
            {"dist", {0.1, 0.2, 0.3}},
            {"received_dist", {0.1, 0.2, 0.3}},
            {"node_id", 0},
            {"n_invalid", 1},
            {"fraud_detected", false},
            {"probability_honest", 0.9}};
  auto v = parse_validated_callback(j.dump(), ctx);
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_EQ(v->participant_address, prover_address);
  EXPECT_EQ(v->creator, "gonka1me");
  EXPECT_EQ(v->sample_size, 3u);
  EXPECT_EQ(v->n_invalid, 1u);
  EXPECT_FALSE(v->fraud_detected);
  inference::inference::MsgSubmitPocValidation p;
  ASSERT_TRUE(p.ParseFromString(to_tx_message(*v).value));
  EXPECT_EQ(p.participant_address(), prover_address);
  EXPECT_EQ(p.poc_stage_start_block_height(), 40u);

  j["public_key"] = "zz";
  EXPECT_EQ(parse_validated_callback(j.dump(), ctx).error().code, 400u);
  j["public_key"] = poc_public_key_hex(prover);
  j["n_invalid"] = 4;
  EXPECT_FALSE(parse_validated_callback(j.dump(), ctx).ok());
  j["n_invalid"] = 0;
  j.erase("fraud_detected");
  EXPECT_FALSE(parse_validated_callback(j.dump(), ctx).ok());
  EXPECT_EQ(address_hrp("gonka1abc"), "gonka");
}

chain::PocBatch batch(std::string participant, std::string id, std::vector<uint64_t> nonces,
                      uint64_t p = 40) {
  std::vector<double> dist;
  for (uint64_t n : nonces) dist.push_back(static_cast<double>(n) / 1000.0);
  return {std::move(participant), "n1", std::move(id), std::move(nonces), std::move(dist), 2, p, p + 1};
}

TEST(PlanPocValidation, SamplesDistinctNoncesOfEveryOtherParticipantDeterministically) {
  ValidationInput in;
  in.own_address = "me";
  in.poc_start_height = 40;
  in.block_hash = "AB";
  in.sample_size = 5;
  in.public_keys = {{"alice", "02aa"}, {"bob", "02bb"}, {"me", "02cc"}};
  std::vector<uint64_t> many;
  for (uint64_t i = 0; i < 50; ++i) many.push_back(i * 3);
  in.batches = {batch("alice", "a1", many), batch("alice", "a2", {0, 3, 1000}), batch("bob", "b1", {1, 2}),
                batch("me", "m1", {9}),     batch("carol", "c1", {4}),          batch("dave", "d1", {5}, 10)};
  in.public_keys["dave"] = "02dd";
  ValidationPlan plan = plan_poc_validation(in);
  ASSERT_EQ(plan.jobs.size(), 2u);
  EXPECT_EQ(plan.jobs[0].participant, "alice");
  EXPECT_EQ(plan.jobs[0].batch.nonces.size(), 5u);
  EXPECT_TRUE(std::is_sorted(plan.jobs[0].batch.nonces.begin(), plan.jobs[0].batch.nonces.end()));
  EXPECT_EQ(plan.jobs[0].batch.public_key, "02aa");
  EXPECT_EQ(plan.jobs[0].batch.block_height, 40u);
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_DOUBLE_EQ(plan.jobs[0].batch.dist[i], static_cast<double>(plan.jobs[0].batch.nonces[i]) / 1000.0);
  }
  EXPECT_EQ(plan.jobs[1].participant, "bob");
  EXPECT_EQ(plan.jobs[1].batch.nonces, (std::vector<uint64_t>{1, 2})) << "fewer than the sample: all of them";
  EXPECT_EQ(plan.skipped.size(), 2u);  // carol: no key; dave: another PoC
  // Same input, same sample; another validator, another sample.
  EXPECT_EQ(plan_poc_validation(in).jobs[0].batch.nonces, plan.jobs[0].batch.nonces);
  in.own_address = "you";
  EXPECT_NE(plan_poc_validation(in).jobs[0].batch.nonces, plan.jobs[0].batch.nonces);
  // Our own batches on request.
  in.own_address = "me";
  in.include_own = true;
  auto with_own = plan_poc_validation(in);
  ASSERT_EQ(with_own.jobs.size(), 3u);
  EXPECT_EQ(with_own.jobs[2].participant, "me");
  EXPECT_EQ(with_own.jobs[2].batch.public_key, "02cc");
}

TEST(SendValidationJobs, RoundRobinAndFailOverToTheNextNode) {
  auto a = std::make_shared<broker::testing::FakeDriver>();
  auto b = std::make_shared<broker::testing::FakeDriver>();
  a->state.kind = broker::ServiceKind::kPow;
  b->state.kind = broker::ServiceKind::kPow;
  std::vector<ValidationJob> jobs(3);
  jobs[0].participant = "p0";
  jobs[1].participant = "p1";
  jobs[2].participant = "p2";
  auto sent = send_validation_jobs(jobs, {{"a", a}, {"b", b}});
  EXPECT_EQ(sent[0].node_id, "a");
  EXPECT_EQ(sent[1].node_id, "b");
  EXPECT_EQ(sent[2].node_id, "a");
  b->down = true;
  sent = send_validation_jobs(jobs, {{"a", a}, {"b", b}});
  EXPECT_TRUE(sent[1].ok);
  EXPECT_EQ(sent[1].node_id, "a");
  a->down = true;
  sent = send_validation_jobs(jobs, {{"a", a}, {"b", b}});
  EXPECT_FALSE(sent[0].ok);
  EXPECT_NE(sent[0].error.find("connection refused"), std::string::npos);
  EXPECT_FALSE(send_validation_jobs(jobs, {})[0].ok);
}

epoch::EpochNodeData data(uint64_t epoch, std::string model, bool poc_slot,
                          std::vector<std::string> args = {}) {
  epoch::EpochNodeData d;
  d.epoch_index = epoch;
  chain::GovernanceModel m;
  m.id = model;
  m.model_args = std::move(args);
  d.epoch_models[model] = m;
  d.epoch_ml_nodes[model] = {"n1", 10, 5, {true, poc_slot}};
  return d;
}

TEST(LoadModelsForNextEpoch, Decisions) {
  LocalNode node{"n1", true, {"m1", "m2"}, {{"m2", {"--max-model-len", "4096", "--quantization", "int4"}}}};
  auto cur = data(3, "m1", false);
  auto next = data(4, "m2", false, {"--quantization", "fp8"});
  auto d = load_models_for_next_epoch(node, &cur, &next, true);
  EXPECT_EQ(d.kind, ModelLoad::kLoad);
  EXPECT_EQ(d.plan.model, "m2");
  EXPECT_EQ(d.plan.args, (std::vector<std::string>{"--quantization", "fp8", "--max-model-len", "4096"}))
      << "epoch args win; local ones add";
  auto slot = data(3, "m1", true);
  d = load_models_for_next_epoch(node, &slot, &next, true);
  EXPECT_EQ(d.kind, ModelLoad::kKeepServing);
  EXPECT_EQ(d.plan.model, "m1");
  EXPECT_EQ(load_models_for_next_epoch(node, &cur, nullptr, false).kind, ModelLoad::kWaitForGroup);
  EXPECT_EQ(load_models_for_next_epoch(node, &cur, nullptr, true).kind, ModelLoad::kStop);
  node.enabled = false;
  EXPECT_EQ(load_models_for_next_epoch(node, &cur, &next, true).kind, ModelLoad::kStop);
}

}  // namespace
}  // namespace api::poc
