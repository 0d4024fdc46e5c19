// dapi's configuration: <home>/config.yaml, written once by `dapi init` and edited by the operator. dapi
// reads it at start and never writes it back (dynamic state lives in the state store, src/api/state). Every
// key is documented in docs/dapi.md; unknown keys and bad values are refused with a message naming the field
// and what is allowed. Secrets (the admin token) may come from the environment instead of the file:
// DAPI_ADMIN_TOKEN wins over admin.token.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/result.h"

namespace api::config {

struct Hardware {
  std::string type;  // e.g. "NVIDIA H100 80GB"
  uint32_t count = 1;
  bool operator==(const Hardware&) const = default;
};

struct ModelConfig {
  std::vector<std::string> args;  // local vLLM-style args; epoch args win on conflicts (merge_model_args)
  bool operator==(const ModelConfig&) const = default;
};

// One MLNode (seed 2.4): the same fields the admin API takes as JSON.
struct NodeConfig {
  std::string id;  // local id: 1-64 of [A-Za-z0-9._-] (the chain's local_id rule)
  std::string host;
  uint16_t inference_port = 0;
  uint16_t poc_port = 0;
  std::map<std::string, ModelConfig> models;  // governance model id -> args; at least one
  std::vector<std::string> model_order;  // model ids in declared order (the first is the node's epoch model)
  uint32_t max_concurrent = 16;
  std::vector<Hardware> hardware;
  bool operator==(const NodeConfig&) const = default;
};

struct ListenAddress {
  std::string host;
  uint16_t port = 0;  // 0 = any free port (tests)
};

struct Config {
  std::string home;  // set by load(); relative paths below are resolved against it

  // chain_node
  std::string chain_node_url;            // inferenced RPC, http://host:port
  std::string address_prefix = "gonka";  // bech32 prefix of new keys

  // key
  std::string key_name;
  std::string keyring_file;        // absolute after load()
  std::string validator_key_file;  // absolute after load()

  std::string public_url;  // advertised in MsgSubmitNewParticipant

  // servers
  ListenAddress public_listen{"0.0.0.0", 9000};
  ListenAddress admin_listen{"127.0.0.1", 9200};
  ListenAddress callback_listen{"127.0.0.1", 9100};
  std::string callback_url;  // what MLNodes call back; default http://<callback host>:<port>

  std::string admin_token;  // secret: never logged
  // Bearer keys of POST /v1/chat/completions (issue 12; the participant pays): secrets, never logged.
  // DAPI_API_KEYS (comma-separated) from the environment is added to them.
  std::vector<std::string> api_keys;

  std::string state_dir;  // absolute after load(); default <home>/data/state
  std::string log_level = "info";

  // Timing (milliseconds unless named otherwise).
  uint64_t reconcile_interval_ms = 5000;
  uint64_t hardware_sync_interval_ms = 5000;
  uint64_t chain_retry_ms = 1000;
  // MLNode version switch (docs/upgrade.md "API node side"): how often the chain's version is compared with
  // the one dapi follows (repairs a missed switch), how long a node's old version may finish its requests
  // before it is stopped, and how long its new version may take to load before the next node is switched
  // anyway.
  uint64_t mlnode_version_check_interval_ms = 30000;
  uint64_t mlnode_drain_timeout_ms = 30000;
  uint64_t mlnode_load_timeout_ms = 600000;

  // inference (issue 12): bounds of the two outbound hops of the request path and the address policy of
  // calls to participant URLs (docs/dapi.md, src/api/inference/hop_policy.h, src/net/address_policy.h).
  struct HopTimeouts {
    uint64_t connect_ms = 5000;      // DNS + TCP connect
    uint64_t first_byte_ms = 60000;  // streamed: to the first chunk
    uint64_t idle_ms = 60000;        // streamed: between two chunks
    uint64_t total_ms = 300000;      // non-streamed: the whole answer
  };
  HopTimeouts executor_hop;  // transfer agent -> the executor's dapi
  HopTimeouts mlnode_hop;    // executor -> its MLNode
  // A client that stops reading a stream is dropped after a write waited this long (public server).
  uint64_t client_write_timeout_ms = 10000;
  // CIDR networks that calls to participant URLs may reach although they are loopback/private/link-local
  // (refused by default); e.g. ["127.0.0.0/8"] when every participant runs on one machine. Validated.
  std::vector<std::string> allowed_networks;
  // poc
  uint64_t poc_validation_sample_size = 200;  // nonces of each participant recomputed in PoC validation

  std::vector<NodeConfig> nodes;
};

std::string config_path(const std::string& home);

// Parses YAML text. Errors name the field ("nodes[1].poc_port: must be 1-65535, got 70000").
common::Result<Config> parse(const std::string& yaml_text, const std::string& home);
// Reads <home>/config.yaml, then applies DAPI_ADMIN_TOKEN from the environment.
common::Result<Config> load(const std::string& home);

// Checks one node (shared by config loading and the admin API); `where` prefixes messages ("nodes[0]").
common::Status validate_node(const NodeConfig& node, const std::string& where);

struct InitOptions {
  std::string chain_node_url;
  std::string key_name;
  std::string public_url;
  std::string admin_token;
  std::string address_prefix = "gonka";
};
// The commented config.yaml that `dapi init` writes (no nodes yet; an example in comments).
std::string render_init_config(const InitOptions& options);

}  // namespace api::config
