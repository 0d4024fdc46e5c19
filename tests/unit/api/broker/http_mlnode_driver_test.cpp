// HttpMlnodeDriver against a scripted MLNode on loopback: versioned URLs, every status code checked, probes
// composed of /api/v1/state with /health or /api/v1/pow/status.
#include "api/broker/http_mlnode_driver.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "../mlnode/fake_mlnode.h"

namespace api::broker {
namespace {

using mlnode::FakeMlNode;
using mlnode::FakeReply;
using nlohmann::json;

FakeReply ok(const json& body) {
  return FakeReply{200, body.dump()};
}

json pow_status(const char* status) {
  return {{"status", status},
          {"is_model_initialized", true},
          {"nonces_per_second", 1.0},
          {"nonces_computed", 10},
          {"hits", 1},
          {"node_id", 1},
          {"node_count", 3},
          {"block_height", 40}};
}

class HttpDriverTest : public ::testing::Test {
 protected:
  FakeMlNode node{"v3.0.8"};
  HttpMlnodeDriver driver{node.inference_base(), node.poc_base(), "v3.0.8"};
};

TEST_F(HttpDriverTest, ProbeOfAServingNodeChecksHealth) {
  node.reply("GET /api/v1/state",
             ok({{"state", "INFERENCE"}, {"version", "v3.0.8"}, {"backend", "builtin"}, {"model", "m1"}}));
  node.reply("GET /health",
             ok({{"status", "ok"}, {"state", "INFERENCE"}, {"version", "v3.0.8"}, {"model", "m1"}}));
  auto p = driver.probe();
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->kind, ServiceKind::kInference);
  EXPECT_EQ(p->model, "m1");
  EXPECT_TRUE(p->healthy);
  auto requests = node.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].path, "/v3.0.8/api/v1/state");
  EXPECT_EQ(requests[1].path, "/v3.0.8/health");

  node.reply("GET /health", {503, json{{"status", "unavailable"},
                                       {"state", "INFERENCE"},
                                       {"version", "v3.0.8"},
                                       {"reason", "backend down"}}
                                      .dump()});
  p = driver.probe();
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(p->healthy) << "a 503 health answer is an unhealthy node, not a success";
}

TEST_F(HttpDriverTest, ProbeOfAPocNodeReadsPowStatus) {
  node.reply("GET /api/v1/state", ok({{"state", "POW"}, {"version", "v3.0.8"}, {"backend", "builtin"}}));
  node.reply("GET /api/v1/pow/status", ok(pow_status("VALIDATING")));
  auto p = driver.probe();
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->kind, ServiceKind::kPow);
  EXPECT_EQ(p->pow, PowPhase::kValidating);
  EXPECT_EQ(p->pow_node_id, 1);
  EXPECT_EQ(p->pow_block_height, 40u);
}

TEST_F(HttpDriverTest, StatusCodesAreNeverIgnored) {
  node.reply("GET /api/v1/state", {500, R"({"error":{"code":"internal","message":"boom"}})"});
  auto p = driver.probe();
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().code, 500u);
  node.reply("POST /api/v1/inference/up",
             {500, R"({"error":{"code":"backend","message":"CUDA out of memory"}})"});
  auto up = driver.inference_up("m1", {});
  ASSERT_FALSE(up.ok());
  EXPECT_NE(up.error().message.find("CUDA out of memory"), std::string::npos) << up.error().message;
  node.reply("POST /api/v1/inference/up", ok({{"status", "OK"}, {"model", "other"}}));
  EXPECT_FALSE(driver.inference_up("m1", {}).ok()) << "a 200 naming another model is not a success";
  node.reply("POST /api/v1/stop", {409, R"({"error":{"code":"conflict","message":"busy"}})"});
  EXPECT_EQ(driver.stop().error().code, 409u);
  node.reply("POST /api/v1/pow/validate", ok({{"status", "OK"}, {"queued_nonces", 1}}));
  EXPECT_FALSE(driver.pow_validate({"02aa", "H", 40, {1, 2}, {0.1, 0.2}}).ok()) << "queued 1 of 2";
}

TEST_F(HttpDriverTest, PowInitSendsNodeIndexCountAndCallback) {
  node.reply("POST /api/v1/pow/init/generate",
             ok({{"status", "OK"}, {"pow_status", pow_status("GENERATING")}}));
  auto p = driver.pow_init_generate({1, 3, 40, "HASH", "02aa", "http://127.0.0.1:9100/v1/poc-batches"});
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->pow, PowPhase::kGenerating);
  auto body = json::parse(node.requests().back().body);
  EXPECT_EQ(body["node_id"], 1);
  EXPECT_EQ(body["node_count"], 3);
  EXPECT_EQ(body["block_height"], 40);
  EXPECT_EQ(body["block_hash"], "HASH");
  EXPECT_EQ(body["public_key"], "02aa");
  EXPECT_EQ(body["url"], "http://127.0.0.1:9100/v1/poc-batches");
}

TEST_F(HttpDriverTest, CancelAbandonsACallInFlightAndLaterCalls) {
  // The node takes a minute to load the model; the reconciler stops meanwhile.
  node.reply("POST /api/v1/inference/up",
             FakeReply{200, R"({"status":"OK"})", "application/json", {}, std::chrono::milliseconds(60000)});
  common::Status result;
  std::atomic<bool> returned{false};
  std::thread call([&] {
    result = driver.inference_up("m1", {});
    returned = true;
  });
  while (node.requests().empty()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_FALSE(returned.load());
  driver.cancel();
  call.join();  // returns at the next cancel check, not after the 60 s reply delay
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().message.find("cancel"), std::string::npos) << result.error().message;
  node.reply("GET /api/v1/state",
             ok({{"state", "STOPPED"}, {"version", "v3.0.8"}, {"backend", "builtin"}, {"model", nullptr}}));
  const size_t before = node.requests().size();
  auto probe = driver.probe();
  ASSERT_FALSE(probe.ok()) << "a cancelled driver makes no more calls";
  EXPECT_NE(probe.error().message.find("cancelled"), std::string::npos) << probe.error().message;
  EXPECT_EQ(node.requests().size(), before);
}

TEST_F(HttpDriverTest, SetVersionSwitchesTheUrlPrefix) {
  FakeMlNode next{"v3.1.0"};
  HttpMlnodeDriver d{next.inference_base(), next.poc_base(), "v3.0.8"};
  next.reply("POST /api/v1/stop",
             ok({{"status", "OK"}, {"previous_state", "STOPPED"}, {"version", "v3.1.0"}}));
  EXPECT_FALSE(d.stop().ok()) << "the v3.1.0 node answers 404 to /v3.0.8/...";
  d.set_version("v3.1.0");
  EXPECT_EQ(d.version(), "v3.1.0");
  auto st = d.stop();
  EXPECT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(next.requests().back().path, "/v3.1.0/api/v1/stop");
}

}  // namespace
}  // namespace api::broker
