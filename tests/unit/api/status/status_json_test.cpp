#include "api/status/status_json.h"

#include <gtest/gtest.h>

namespace api::status {
namespace {

using nlohmann::json;

// What app::Controller::node_state gives for a node in epoch 2 (the admin API's "state").
json controller_state() {
  return json::parse(R"({
    "status": "INFERENCE",
    "intended": {"intent": "INFERENCE", "model": "Qwen/A", "args": ["--secret-arg", "x"]},
    "observed": {"service": "inference", "model": "Qwen/A", "healthy": true, "pow": "idle"},
    "failure_reason": "connect to 10.1.2.3:5000 refused",
    "consecutive_failures": 0,
    "effective_epoch": 2,
    "reason": "serving",
    "epochs": {
      "1": {"epoch_models": {}, "epoch_ml_nodes": {"Qwen/A": {"poc_weight": 999, "throughput": 1,
                                                              "timeslot_allocation": [true, true]}}},
      "2": {"epoch_models": {"Qwen/A": {"model_args": ["--secret-arg"], "throughput_per_nonce": 3}},
            "epoch_ml_nodes": {"Qwen/A": {"poc_weight": 40, "throughput": 120, "timeslot_allocation": [true, false]},
                               "Qwen/B": {"poc_weight": 2, "throughput": 6, "timeslot_allocation": [false, true]}}}
    }
  })");
}

StatusInputs inputs() {
  StatusInputs in;
  in.participant = "gonka1me";
  in.mlnode_version = "v3.0.8";
  in.height = 57;
  in.block_time_unix_ms = 1764486000000;
  chain::EpochInfo e;
  e.epoch_index = 2;
  e.latest_epoch_index = 2;
  e.phase = "inference";
  e.params.epoch_length = 30;
  e.stages.poc_start = 60;
  e.stages.set_new_validators = 77;
  e.stages.next_poc_start = 90;
  in.epoch = e;
  config::NodeConfig n;
  n.id = "me-node-0";
  n.host = "10.1.2.3";
  n.inference_port = 5000;
  n.poc_port = 8080;
  n.models["Qwen/A"] = {};
  n.models["Qwen/B"] = {};
  n.model_order = {"Qwen/A", "Qwen/B"};
  n.max_concurrent = 4;
  n.hardware = {{"CPU", 2}};
  in.nodes.push_back(node_input(n, true, controller_state()));
  chain::EpochGroup g;
  g.epoch_index = 2;
  g.total_weight = 100;
  g.validation_weights = {{"gonka1small", 10, "http://small:9000", {}},
                          {"gonka1me", 45, "http://me:9000", {}},
                          {"gonka1big", 45, "http://big:9000", {}}};
  in.group = g;
  InferenceSummary s;
  s.id = "chatcmpl-1";
  s.model = "Qwen/A";
  s.executor = "gonka1big";
  s.executor_node = "big-node-0";
  s.tokens = 30;
  s.cost = 18446744073709551615ull;
  s.refund = 5;
  s.validation = "sampled";
  s.height = 55;
  s.time_unix_ms = 1764485999000;
  in.inferences.push_back(s);
  return in;
}

TEST(BuildStatus, ShowsBlockEpochAndStages) {
  json s = build_status(inputs());
  EXPECT_EQ(s["participant"], "gonka1me");
  EXPECT_EQ(s["denom"], "nicoin");
  EXPECT_EQ(s["mlnode_version"], "v3.0.8");
  EXPECT_EQ(s["block"], json({{"height", 57}, {"time_unix_ms", 1764486000000}}));
  EXPECT_EQ(s["epoch"]["epoch_index"], 2);
  EXPECT_TRUE(s["epoch"]["upcoming_epoch_index"].is_null());
  EXPECT_EQ(s["epoch"]["phase"], "inference");
  EXPECT_EQ(s["epoch"]["epoch_length"], 30);
  EXPECT_EQ(s["epoch"]["stages"]["poc_start"], 60);
  EXPECT_EQ(s["epoch"]["stages"]["set_new_validators"], 77);
  EXPECT_EQ(s["epoch"]["stages"]["next_poc_start"], 90);
  EXPECT_EQ(s["epoch"]["stages"].size(), 12u);
}

TEST(BuildStatus, NodesCarryStateModelAndTheEffectiveEpochsWeightsAndTimeslots) {
  json n = build_status(inputs())["nodes"][0];
  EXPECT_EQ(n["id"], "me-node-0");
  EXPECT_EQ(n["enabled"], true);
  EXPECT_EQ(n["status"], "INFERENCE");
  EXPECT_EQ(n["intent"], "INFERENCE");
  EXPECT_EQ(n["model"], "Qwen/A");
  EXPECT_EQ(n["models"], json({"Qwen/A", "Qwen/B"}));
  EXPECT_EQ(n["mlnode_version"], "v3.0.8");
  EXPECT_EQ(n["healthy"], true);
  EXPECT_EQ(n["max_concurrent"], 4);
  EXPECT_EQ(n["hardware"], json::parse(R"([{"type":"CPU","count":2}])"));
  EXPECT_EQ(n["epoch_index"], 2);
  EXPECT_EQ(n["weight"], 42);  // epoch 2's, not epoch 1's 999
  EXPECT_EQ(n["epoch_ml_nodes"], json::parse(R"([
    {"model":"Qwen/A","poc_weight":40,"throughput":120,"pre_poc_slot":true,"poc_slot":false},
    {"model":"Qwen/B","poc_weight":2,"throughput":6,"pre_poc_slot":false,"poc_slot":true}])"));
}

TEST(BuildStatus, ANodeShowsItsOwnMLNodeVersionDuringAnUpgrade) {
  StatusInputs in = inputs();
  in.mlnode_version = "v3.1.0";  // followed: the chain switched
  EXPECT_EQ(build_status(in)["nodes"][0]["mlnode_version"], "v3.1.0");
  in.nodes[0].state["mlnode_version"] = "v3.0.8";  // this node is not switched yet
  json s = build_status(in);
  EXPECT_EQ(s["mlnode_version"], "v3.1.0");
  EXPECT_EQ(s["nodes"][0]["mlnode_version"], "v3.0.8");
}

TEST(BuildStatus, ShowsNoSecretOrInternalAddress) {
  std::string text = build_status(inputs()).dump();
  for (const char* hidden :
       {"10.1.2.3", "5000", "8080", "--secret-arg", "failure_reason", "refused", "host", "port", "args"}) {
    EXPECT_EQ(text.find(hidden), std::string::npos) << hidden << " in " << text;
  }
}

TEST(BuildStatus, ParticipantsByWeightThenAddressWithSelfMarked) {
  json p = build_status(inputs())["participants"];
  EXPECT_EQ(p["epoch_index"], 2);
  EXPECT_EQ(p["total_weight"], 100);
  EXPECT_FALSE(p.contains("error"));
  ASSERT_EQ(p["members"].size(), 3u);
  EXPECT_EQ(p["members"][0],
            json({{"address", "gonka1big"}, {"weight", 45}, {"url", "http://big:9000"}, {"is_self", false}}));
  EXPECT_EQ(p["members"][1]["address"], "gonka1me");
  EXPECT_EQ(p["members"][1]["is_self"], true);
  EXPECT_EQ(p["members"][2]["address"], "gonka1small");
}

TEST(BuildStatus, InferencesWithTokensAndCostAsDecimalStrings) {
  json i = build_status(inputs())["inferences"][0];
  EXPECT_EQ(i, json({{"id", "chatcmpl-1"},
                     {"model", "Qwen/A"},
                     {"executor", "gonka1big"},
                     {"executor_node", "big-node-0"},
                     {"tokens", 30},
                     {"cost", "18446744073709551615"},
                     {"refund", "5"},
                     {"validation", "sampled"},
                     {"height", 55},
                     {"time_unix_ms", 1764485999000}}));
}

TEST(BuildStatus, BeforeTheFirstBlockAndWithAnUnreadableChain) {
  StatusInputs in;
  in.participant = "gonka1me";
  in.group_error = "connection refused";
  config::NodeConfig n;
  n.id = "fresh";
  n.model_order = {"Qwen/A"};
  in.nodes.push_back(node_input(n, false, json::object()));  // the controller knows nothing yet
  json s = build_status(in);
  EXPECT_TRUE(s["block"].is_null());
  EXPECT_TRUE(s["epoch"].is_null());
  EXPECT_EQ(s["participants"], json({{"epoch_index", nullptr},
                                     {"total_weight", 0},
                                     {"members", json::array()},
                                     {"error", "connection refused"}}));
  EXPECT_EQ(s["inferences"], json::array());
  json node = s["nodes"][0];
  EXPECT_EQ(node["status"], "UNKNOWN");
  EXPECT_EQ(node["enabled"], false);
  EXPECT_EQ(node["model"], "Qwen/A");  // nothing intended or observed: its first declared model
  EXPECT_EQ(node["healthy"], false);
  EXPECT_TRUE(node["epoch_index"].is_null());
  EXPECT_EQ(node["weight"], 0);
}

TEST(BuildStatus, ToleratesMistypedControllerFields) {
  StatusInputs in;
  config::NodeConfig n;
  n.id = "odd";
  in.nodes.push_back(node_input(n, true, json::parse(R"({"status": 3, "intended": "x", "observed": [1],
      "effective_epoch": "2", "epochs": {"2": {"epoch_ml_nodes": {"m": {"poc_weight": -1,
      "timeslot_allocation": "yes"}}}}})")));
  json node = build_status(in)["nodes"][0];
  EXPECT_EQ(node["status"], "UNKNOWN");
  EXPECT_EQ(node["model"], "");
  EXPECT_EQ(node["weight"], 0);
  EXPECT_TRUE(node["epoch_index"].is_null());
}

}  // namespace
}  // namespace api::status
