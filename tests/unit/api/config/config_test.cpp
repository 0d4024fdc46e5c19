#include "api/config/config.h"

#include <gtest/gtest.h>

#include "api/config/node_json.h"

namespace api::config {
namespace {

const char* kMinimal = R"(
chain_node: {url: "http://127.0.0.1:26657"}
key: {name: alice}
public_url: "http://alice.example:9000"
admin: {token: "0123456789abcdef0123"}
)";

std::string with(const std::string& extra) {
  return std::string(kMinimal) + extra;
}

TEST(Config, InitTemplateLoadsWithItsDefaults) {
  InitOptions o{"http://127.0.0.1:26657", "alice", "http://alice.example:9000", "tok-0123456789abcdef",
                "gonka"};
  auto c = parse(render_init_config(o), "/h");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->chain_node_url, "http://127.0.0.1:26657");
  EXPECT_EQ(c->key_name, "alice");
  EXPECT_EQ(c->keyring_file, "/h/keyring/keys.json");
  EXPECT_EQ(c->validator_key_file, "/h/config/validator_key.json");
  EXPECT_EQ(c->state_dir, "/h/data/state");
  EXPECT_EQ(c->admin_listen.host, "127.0.0.1");
  EXPECT_EQ(c->admin_listen.port, 9200);
  EXPECT_EQ(c->callback_url, "http://127.0.0.1:9100");
  EXPECT_TRUE(c->nodes.empty());
}

// The template's commented timing block, uncommented, is valid and says the defaults.
TEST(Config, InitTemplateTimingBlockUncommentedGivesTheDefaults) {
  InitOptions o{"http://127.0.0.1:26657", "alice", "http://alice.example:9000", "tok-0123456789abcdef",
                "gonka"};
  std::string text = render_init_config(o);
  std::string out;
  bool in_timing = false;
  size_t uncommented = 0;
  for (size_t at = 0; at < text.size();) {
    size_t end = text.find('\n', at);
    std::string line = text.substr(at, end - at);
    at = end == std::string::npos ? text.size() : end + 1;
    if (line == "# timing:")
      in_timing = true;
    else if (in_timing && line.rfind("#   ", 0) != 0)
      in_timing = false;
    if (in_timing && line.rfind("#   #", 0) != 0) {
      line = line.substr(2);
      ++uncommented;
    }
    out += line + "\n";
  }
  ASSERT_EQ(uncommented, 7u) << text;
  auto c = parse(out, "/h");
  ASSERT_TRUE(c) << c.error().message;
  Config defaults = *parse(text, "/h");
  EXPECT_EQ(c->reconcile_interval_ms, defaults.reconcile_interval_ms);
  EXPECT_EQ(c->hardware_sync_interval_ms, defaults.hardware_sync_interval_ms);
  EXPECT_EQ(c->chain_retry_ms, defaults.chain_retry_ms);
  EXPECT_EQ(c->mlnode_version_check_interval_ms, defaults.mlnode_version_check_interval_ms);
  EXPECT_EQ(c->mlnode_drain_timeout_ms, defaults.mlnode_drain_timeout_ms);
  EXPECT_EQ(c->mlnode_load_timeout_ms, defaults.mlnode_load_timeout_ms);
}

TEST(Config, ParsesNodesKeepingModelOrder) {
  auto c = parse(with(R"(
nodes:
  - id: gpu-1
    host: 10.0.0.7
    inference_port: 5000
    poc_port: 8080
    max_concurrent: 4
    models:
      Qwen/QwQ-32B: {args: ["--tp", "2"]}
      Qwen/Qwen2.5-7B-Instruct:
    hardware: [{type: NVIDIA H100 80GB, count: 2}]
)"),
                 "/h");
  ASSERT_TRUE(c) << c.error().message;
  ASSERT_EQ(c->nodes.size(), 1u);
  const auto& n = c->nodes[0];
  EXPECT_EQ(n.model_order, (std::vector<std::string>{"Qwen/QwQ-32B", "Qwen/Qwen2.5-7B-Instruct"}));
  EXPECT_EQ(n.models.at("Qwen/QwQ-32B").args, (std::vector<std::string>{"--tp", "2"}));
  EXPECT_EQ(n.max_concurrent, 4u);
  ASSERT_EQ(n.hardware.size(), 1u);
  EXPECT_EQ(n.hardware[0].count, 2u);
}

TEST(Config, RefusesUnknownKeysNamingTheFieldAndTheAllowedOnes) {
  auto c = parse(with("colour: blue\n"), "/h");
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("colour: unknown key; allowed:"), std::string::npos) << c.error().message;
  auto n = parse(with("nodes: [{id: a, host: h, inference_port: 1, poc_port: 2, models: {m: }, gpus: 3}]\n"),
                 "/h");
  ASSERT_FALSE(n);
  EXPECT_NE(n.error().message.find("nodes[0].gpus: unknown key"), std::string::npos) << n.error().message;
}

TEST(Config, InferenceHopBoundsAndAllowedNetworks) {
  auto d = parse(kMinimal, "/h");
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->executor_hop.connect_ms, 5000u);
  EXPECT_EQ(d->mlnode_hop.total_ms, 300000u);
  EXPECT_EQ(d->client_write_timeout_ms, 10000u);
  EXPECT_TRUE(d->allowed_networks.empty());  // the safe default: no internal address is reachable
  auto c =
      parse(with("inference:\n"
                 "  executor_hop: {connect_timeout_ms: 100, first_byte_timeout_ms: 200, idle_timeout_ms: 50,"
                 " total_timeout_ms: 900}\n"
                 "  mlnode_hop: {idle_timeout_ms: 7000}\n"
                 "  client_write_timeout_ms: 2500\n"
                 "  allowed_networks: [127.0.0.0/8, 'fd00::/8', 10.1.2.3]\n"),
            "/h");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->executor_hop.connect_ms, 100u);
  EXPECT_EQ(c->executor_hop.first_byte_ms, 200u);
  EXPECT_EQ(c->executor_hop.idle_ms, 50u);
  EXPECT_EQ(c->executor_hop.total_ms, 900u);
  EXPECT_EQ(c->mlnode_hop.idle_ms, 7000u);
  EXPECT_EQ(c->mlnode_hop.connect_ms, 5000u);
  EXPECT_EQ(c->client_write_timeout_ms, 2500u);
  EXPECT_EQ(c->allowed_networks, (std::vector<std::string>{"127.0.0.0/8", "fd00::/8", "10.1.2.3"}));
}

TEST(Config, MLNodeUpgradeTimingsDefaultAndParse) {
  auto d = parse(kMinimal, "/h");
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->mlnode_version_check_interval_ms, 30000u);
  EXPECT_EQ(d->mlnode_drain_timeout_ms, 30000u);
  EXPECT_EQ(d->mlnode_load_timeout_ms, 600000u);
  auto c = parse(with("timing: {mlnode_version_check_interval_ms: 500, mlnode_drain_timeout_ms: 0,"
                      " mlnode_load_timeout_ms: 5000}\n"),
                 "/h");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->mlnode_version_check_interval_ms, 500u);
  EXPECT_EQ(c->mlnode_drain_timeout_ms, 0u);
  EXPECT_EQ(c->mlnode_load_timeout_ms, 5000u);
  auto bad = parse(with("timing: {mlnode_load_timeout_ms: 10}\n"), "/h");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("timing.mlnode_load_timeout_ms: must be an integer in [1000, 7200000]"),
            std::string::npos)
      << bad.error().message;
}

TEST(Config, RefusesBadValuesNamingTheFieldAndWhatIsAllowed) {
  struct Case {
    std::string yaml, expect;
  } cases[] = {
      {"nodes: [{id: a, host: h, inference_port: 70000, poc_port: 2, models: {m: }}]\n",
       "nodes[0].inference_port: must be an integer in [1, 65535], got \"70000\""},
      {"nodes: [{id: a, host: h, inference_port: 1, poc_port: 2, models: {}}]\n",
       "nodes[0].models: must name"},
      {"nodes: [{id: 'a b', host: h, inference_port: 1, poc_port: 2, models: {m: }}]\n", "nodes[0].id:"},
      {"nodes: [{id: a, host: h, inference_port: 1, poc_port: 2, models: {m: }}, "
       "{id: a, host: g, inference_port: 1, poc_port: 2, models: {m: }}]\n",
       "nodes[1].id: duplicate node id \"a\""},
      {"nodes: [{id: a, host: h, inference_port: 1, poc_port: 2, models: {m: }}, "
       "{id: b, host: h, inference_port: 2, poc_port: 3, models: {m: }}]\n",
       "host:port h:2 is already used"},
      {"servers: {admin: '0.0.0.0:9200'}\n", "servers.admin: must bind a loopback address"},
      {"log_level: loud\n", "log_level: must be one of"},
      {"timing: {reconcile_interval_ms: 5}\n",
       "timing.reconcile_interval_ms: must be an integer in [100, 600000]"},
      {"poc: {validation_sample_size: 0}\n", "poc.validation_sample_size: must be an integer in [1, 100000]"},
      {"poc: {sample: 3}\n", "poc.sample: unknown key; allowed: validation_sample_size"},
      {"inference: {executor_hop: {idle_timeout_ms: 0}}\n",
       "inference.executor_hop.idle_timeout_ms: must be an integer in [1, 3600000]"},
      {"inference: {mlnode_hop: {connect_timeout_ms: 70000}}\n",
       "inference.mlnode_hop.connect_timeout_ms: must not be above first_byte_timeout_ms"},
      {"inference: {executor_hop: {first_byte_timeout_ms: 400000}}\n",
       "inference.executor_hop.first_byte_timeout_ms: must not be above total_timeout_ms"},
      {"inference: {allowed_networks: [localhost]}\n",
       "inference.allowed_networks[0]: must be an IPv4 or IPv6 network"},
      {"inference: {allowed_networks: ['10.0.0.0/40']}\n", "inference.allowed_networks[0]:"},
      {"inference: {timeouts: 3}\n", "inference.timeouts: unknown key"},
  };
  for (const auto& c : cases) {
    auto r = parse(with(c.yaml), "/h");
    ASSERT_FALSE(r) << c.yaml;
    EXPECT_NE(r.error().message.find(c.expect), std::string::npos) << r.error().message;
  }
  auto url = parse("chain_node: {url: ftp://x}\nkey: {name: a}\npublic_url: http://p\n", "/h");
  ASSERT_FALSE(url);
  EXPECT_NE(url.error().message.find("chain_node.url: must be an http"), std::string::npos);
  auto missing = parse("key: {name: a}\npublic_url: http://p\n", "/h");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message, "chain_node: is required");
  auto yaml = parse("chain_node: [\n", "/h");
  ASSERT_FALSE(yaml);
  EXPECT_NE(yaml.error().message.find("not valid YAML"), std::string::npos);
}

TEST(NodeJson, RoundTripsAndKeepsModelOrder) {
  auto n = node_from_json_text(
      R"({"id":"n1","host":"127.0.0.1","inference_port":5000,"poc_port":5001,)"
      R"("models":{"z/model":{"args":["--a","1"]},"a/model":{}},"hardware":[{"type":"CPU","count":2}]})");
  ASSERT_TRUE(n) << n.error().message;
  EXPECT_EQ(n->model_order, (std::vector<std::string>{"z/model", "a/model"}));
  auto again = node_from_json(node_to_json(*n));
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, *n);
}

TEST(NodeJson, RefusesBadBodiesNamingTheField) {
  struct Case {
    std::string body, expect;
  } cases[] = {
      {"not json", "body is not valid JSON"},
      {"[]", "a node must be a JSON object"},
      {R"({"id":"n","host":"h","inference_port":1,"poc_port":2})", "models: is required"},
      {R"({"id":"n","host":"h","inference_port":"1","poc_port":2,"models":{"m":{}}})",
       "inference_port: must be"},
      {R"({"id":"n","host":"h","inference_port":1,"poc_port":2,"models":{"m":{"args":[1]}}})",
       "models.m.args"},
      {R"({"id":"n","host":"h","inference_port":1,"poc_port":2,"models":{"m":{}},"x":1})",
       "x: unknown field"},
      {R"({"id":"n","host":"http://h","inference_port":1,"poc_port":2,"models":{"m":{}}})", "node.host"},
  };
  for (const auto& c : cases) {
    auto r = node_from_json_text(c.body);
    ASSERT_FALSE(r) << c.body;
    EXPECT_NE(r.error().message.find(c.expect), std::string::npos) << r.error().message;
  }
}

}  // namespace
}  // namespace api::config
