#include "api/config/config.h"

#include <cstdlib>
#include <filesystem>
#include <set>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "api/config/node_json.h"
#include "common/file_util.h"
#include "net/address_policy.h"

namespace api::config {
namespace {

bool valid_id(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
              c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string kinds(const std::set<std::string>& allowed) {
  std::string out;
  for (const auto& a : allowed) out += (out.empty() ? "" : ", ") + a;
  return out;
}

// Refuses keys of `map` outside `allowed`.
common::Status only_keys(const YAML::Node& map, const std::string& where,
                         const std::set<std::string>& allowed) {
  if (!map.IsMap()) return field_error(where, "must be a mapping with keys " + kinds(allowed));
  for (const auto& kv : map) {
    auto key = kv.first.as<std::string>();
    if (!allowed.count(key)) {
      return field_error(where.empty() ? key : where + "." + key, "unknown key; allowed: " + kinds(allowed));
    }
  }
  return {};
}

common::Result<std::string> scalar(const YAML::Node& n, const std::string& field) {
  if (!n.IsScalar()) return field_error(field, "must be a string");
  return n.as<std::string>();
}

common::Result<uint64_t> unsigned_in(const YAML::Node& n, const std::string& field, uint64_t lo,
                                     uint64_t hi) {
  std::string text = n.IsScalar() ? n.as<std::string>() : "";
  bool digits =
      !text.empty() && text.size() <= 19 && text.find_first_not_of("0123456789") == std::string::npos;
  uint64_t v = digits ? std::stoull(text) : 0;
  if (!digits || v < lo || v > hi) {
    return field_error(field, "must be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) +
                                  "], got \"" + (n.IsScalar() ? text : std::string("(not a number)")) + "\"");
  }
  return v;
}

common::Status check_http_url(const std::string& url, const std::string& field) {
  if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
    return field_error(field, "must be an http:// or https:// URL, got \"" + url + "\"");
  }
  if (url.size() <= 8 || url.find(' ') != std::string::npos)
    return field_error(field, "is not a valid URL: \"" + url + "\"");
  return {};
}

common::Result<ListenAddress> listen_address(const YAML::Node& n, const std::string& field) {
  auto text = scalar(n, field);
  if (!text) return text.error();
  auto colon = text->rfind(':');
  if (colon == std::string::npos || colon == 0)
    return field_error(field, "must be HOST:PORT, e.g. 127.0.0.1:9200");
  YAML::Node port(text->substr(colon + 1));
  auto p = unsigned_in(port, field + " port", 0, 65535);
  if (!p) return p.error();
  return ListenAddress{text->substr(0, colon), static_cast<uint16_t>(*p)};
}

std::string absolute(const std::string& home, const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  return (std::filesystem::path(home) / path).lexically_normal().string();
}

// Assigns the value of a Result expression to `var`, or returns its error.
#define TRY_ASSIGN(var, expr)   \
  do {                          \
    auto _r = (expr);           \
    if (!_r) return _r.error(); \
    var = std::move(*_r);       \
  } while (0)

common::Result<NodeConfig> parse_node(const YAML::Node& n, const std::string& where) {
  TRY_STATUS(only_keys(n, where,
                       {"id", "host", "inference_port", "poc_port", "models", "max_concurrent", "hardware"}));
  NodeConfig node;
  for (const char* required : {"id", "host", "inference_port", "poc_port", "models"}) {
    if (!n[required]) return field_error(where + "." + required, "is required");
  }
  TRY_ASSIGN(node.id, scalar(n["id"], where + ".id"));
  TRY_ASSIGN(node.host, scalar(n["host"], where + ".host"));
  uint64_t v = 0;
  TRY_ASSIGN(v, unsigned_in(n["inference_port"], where + ".inference_port", 1, 65535));
  node.inference_port = static_cast<uint16_t>(v);
  TRY_ASSIGN(v, unsigned_in(n["poc_port"], where + ".poc_port", 1, 65535));
  node.poc_port = static_cast<uint16_t>(v);
  if (n["max_concurrent"]) {
    TRY_ASSIGN(v, unsigned_in(n["max_concurrent"], where + ".max_concurrent", 1, 100000));
    node.max_concurrent = static_cast<uint32_t>(v);
  }
  const auto& models = n["models"];
  if (!models.IsMap())
    return field_error(where + ".models", "must be a mapping of model id to {args: [...]}");
  for (const auto& kv : models) {
    std::string id = kv.first.as<std::string>();
    std::string field = where + ".models." + id;
    ModelConfig mc;
    if (!kv.second.IsNull()) {
      TRY_STATUS(only_keys(kv.second, field, {"args"}));
      if (kv.second["args"]) {
        if (!kv.second["args"].IsSequence()) return field_error(field + ".args", "must be a list of strings");
        for (const auto& a : kv.second["args"]) {
          std::string arg;
          TRY_ASSIGN(arg, scalar(a, field + ".args"));
          mc.args.push_back(arg);
        }
      }
    }
    node.models[id] = mc;
    node.model_order.push_back(id);
  }
  if (n["hardware"]) {
    if (!n["hardware"].IsSequence())
      return field_error(where + ".hardware", "must be a list of {type, count}");
    size_t i = 0;
    for (const auto& h : n["hardware"]) {
      std::string field = where + ".hardware[" + std::to_string(i++) + "]";
      TRY_STATUS(only_keys(h, field, {"type", "count"}));
      Hardware hw;
      if (!h["type"]) return field_error(field + ".type", "is required");
      TRY_ASSIGN(hw.type, scalar(h["type"], field + ".type"));
      if (h["count"]) {
        TRY_ASSIGN(v, unsigned_in(h["count"], field + ".count", 1, 1024));
        hw.count = static_cast<uint32_t>(v);
      }
      node.hardware.push_back(hw);
    }
  }
  TRY_STATUS(validate_node(node, where));
  return node;
}

}  // namespace

std::string config_path(const std::string& home) {
  return (std::filesystem::path(home) / "config.yaml").string();
}

common::Status validate_node(const NodeConfig& node, const std::string& where) {
  if (!valid_id(node.id)) {
    return field_error(where + ".id",
                       "\"" + node.id + "\" must be 1-64 characters of letters, digits, '.', '_', '-'");
  }
  if (node.host.empty() || node.host.size() > 253 || node.host.find_first_of(" /:?#") != std::string::npos) {
    return field_error(where + ".host",
                       "must be a host name or IP address without scheme or port, got \"" + node.host + "\"");
  }
  if (node.inference_port == 0) return field_error(where + ".inference_port", "must be 1-65535");
  if (node.poc_port == 0) return field_error(where + ".poc_port", "must be 1-65535");
  if (node.models.empty()) return field_error(where + ".models", "must name at least one governance model");
  if (node.max_concurrent == 0) return field_error(where + ".max_concurrent", "must be at least 1");
  for (const auto& [id, mc] : node.models) {
    if (id.empty() || id.size() > 128)
      return field_error(where + ".models", "model ids must be 1-128 characters");
  }
  for (const auto& h : node.hardware) {
    if (h.type.empty() || h.type.size() > 128)
      return field_error(where + ".hardware.type", "must be 1-128 characters");
    if (h.count == 0) return field_error(where + ".hardware.count", "must be at least 1");
  }
  return {};
}

common::Result<Config> parse(const std::string& yaml_text, const std::string& home) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    return common::make_error(1, "config.yaml is not valid YAML: " + std::string(e.what()));
  }
  Config c;
  c.home = home;
  TRY_STATUS(only_keys(root, "",
                       {"chain_node", "key", "public_url", "servers", "admin", "api_keys", "state_dir",
                        "log_level", "timing", "poc", "inference", "nodes"}));
  for (const char* required : {"chain_node", "key", "public_url"}) {
    if (!root[required]) return field_error(required, "is required");
  }
  const auto& chain = root["chain_node"];
  TRY_STATUS(only_keys(chain, "chain_node", {"url", "address_prefix"}));
  if (!chain["url"]) return field_error("chain_node.url", "is required");
  TRY_ASSIGN(c.chain_node_url, scalar(chain["url"], "chain_node.url"));
  TRY_STATUS(check_http_url(c.chain_node_url, "chain_node.url"));
  if (chain["address_prefix"])
    TRY_ASSIGN(c.address_prefix, scalar(chain["address_prefix"], "chain_node.address_prefix"));

  const auto& key = root["key"];
  TRY_STATUS(only_keys(key, "key", {"name", "keyring_file", "validator_key_file"}));
  if (!key["name"]) return field_error("key.name", "is required");
  TRY_ASSIGN(c.key_name, scalar(key["name"], "key.name"));
  c.keyring_file = "keyring/keys.json";
  c.validator_key_file = "config/validator_key.json";
  if (key["keyring_file"]) TRY_ASSIGN(c.keyring_file, scalar(key["keyring_file"], "key.keyring_file"));
  if (key["validator_key_file"])
    TRY_ASSIGN(c.validator_key_file, scalar(key["validator_key_file"], "key.validator_key_file"));
  c.keyring_file = absolute(home, c.keyring_file);
  c.validator_key_file = absolute(home, c.validator_key_file);

  TRY_ASSIGN(c.public_url, scalar(root["public_url"], "public_url"));
  TRY_STATUS(check_http_url(c.public_url, "public_url"));

  if (const auto& servers = root["servers"]) {
    TRY_STATUS(only_keys(servers, "servers", {"public", "admin", "mlnode_callback", "mlnode_callback_url"}));
    if (servers["public"]) TRY_ASSIGN(c.public_listen, listen_address(servers["public"], "servers.public"));
    if (servers["admin"]) TRY_ASSIGN(c.admin_listen, listen_address(servers["admin"], "servers.admin"));
    if (servers["mlnode_callback"]) {
      TRY_ASSIGN(c.callback_listen, listen_address(servers["mlnode_callback"], "servers.mlnode_callback"));
    }
    if (servers["mlnode_callback_url"]) {
      TRY_ASSIGN(c.callback_url, scalar(servers["mlnode_callback_url"], "servers.mlnode_callback_url"));
      TRY_STATUS(check_http_url(c.callback_url, "servers.mlnode_callback_url"));
    }
  }
  if (c.admin_listen.host != "127.0.0.1" && c.admin_listen.host != "localhost" &&
      c.admin_listen.host != "::1") {
    return field_error("servers.admin", "must bind a loopback address (127.0.0.1 or ::1), got \"" +
                                            c.admin_listen.host + "\"");
  }
  if (const auto& admin = root["admin"]) {
    TRY_STATUS(only_keys(admin, "admin", {"token"}));
    if (admin["token"]) TRY_ASSIGN(c.admin_token, scalar(admin["token"], "admin.token"));
  }
  if (const auto& keys = root["api_keys"]; keys && !keys.IsNull()) {
    if (!keys.IsSequence())
      return field_error("api_keys", "must be a list of strings (Bearer keys of /v1/chat/completions)");
    for (size_t i = 0; i < keys.size(); ++i) {
      std::string k;
      TRY_ASSIGN(k, scalar(keys[i], "api_keys[" + std::to_string(i) + "]"));
      if (k.size() < 8 || k.size() > 256)
        return field_error("api_keys[" + std::to_string(i) + "]", "must be 8-256 characters");
      c.api_keys.push_back(k);
    }
  }
  c.state_dir = "data/state";
  if (root["state_dir"]) TRY_ASSIGN(c.state_dir, scalar(root["state_dir"], "state_dir"));
  c.state_dir = absolute(home, c.state_dir);
  if (root["log_level"]) {
    TRY_ASSIGN(c.log_level, scalar(root["log_level"], "log_level"));
    static const std::set<std::string> levels{"trace", "debug", "info", "warn", "error"};
    if (!levels.count(c.log_level))
      return field_error("log_level", "must be one of " + kinds(levels) + ", got \"" + c.log_level + "\"");
  }
  if (const auto& poc = root["poc"]) {
    TRY_STATUS(only_keys(poc, "poc", {"validation_sample_size"}));
    if (poc["validation_sample_size"]) {
      TRY_ASSIGN(c.poc_validation_sample_size,
                 unsigned_in(poc["validation_sample_size"], "poc.validation_sample_size", 1, 100000));
    }
  }
  if (const auto& inf = root["inference"]) {
    TRY_STATUS(only_keys(inf, "inference",
                         {"executor_hop", "mlnode_hop", "client_write_timeout_ms", "allowed_networks"}));
    for (auto [name, hop] :
         {std::pair{"executor_hop", &c.executor_hop}, std::pair{"mlnode_hop", &c.mlnode_hop}}) {
      const auto& h = inf[name];
      if (!h) continue;
      std::string where = std::string("inference.") + name;
      TRY_STATUS(only_keys(
          h, where, {"connect_timeout_ms", "first_byte_timeout_ms", "idle_timeout_ms", "total_timeout_ms"}));
      for (auto [key, field] :
           {std::pair{"connect_timeout_ms", &hop->connect_ms},
            std::pair{"first_byte_timeout_ms", &hop->first_byte_ms},
            std::pair{"idle_timeout_ms", &hop->idle_ms}, std::pair{"total_timeout_ms", &hop->total_ms}}) {
        if (h[key]) TRY_ASSIGN(*field, unsigned_in(h[key], where + "." + key, 1, 3600000));
      }
      if (hop->connect_ms > hop->first_byte_ms)
        return field_error(where + ".connect_timeout_ms", "must not be above first_byte_timeout_ms");
      if (hop->first_byte_ms > hop->total_ms)
        return field_error(where + ".first_byte_timeout_ms", "must not be above total_timeout_ms");
    }
    if (inf["client_write_timeout_ms"]) {
      TRY_ASSIGN(c.client_write_timeout_ms, unsigned_in(inf["client_write_timeout_ms"],
                                                        "inference.client_write_timeout_ms", 100, 600000));
    }
    if (const auto& nets = inf["allowed_networks"]; nets && !nets.IsNull()) {
      if (!nets.IsSequence())
        return field_error("inference.allowed_networks", "must be a list of CIDR networks");
      for (size_t i = 0; i < nets.size(); ++i) {
        std::string where = "inference.allowed_networks[" + std::to_string(i) + "]";
        std::string n;
        TRY_ASSIGN(n, scalar(nets[i], where));
        if (!net::parse_network(n))
          return field_error(
              where, "must be an IPv4 or IPv6 network (\"127.0.0.0/8\", \"fd00::/8\"), got \"" + n + "\"");
        c.allowed_networks.push_back(n);
      }
    }
  }
  if (const auto& timing = root["timing"]) {
    TRY_STATUS(
        only_keys(timing, "timing",
                  {"reconcile_interval_ms", "hardware_sync_interval_ms", "chain_retry_ms",
                   "mlnode_version_check_interval_ms", "mlnode_drain_timeout_ms", "mlnode_load_timeout_ms"}));
    if (timing["reconcile_interval_ms"]) {
      TRY_ASSIGN(c.reconcile_interval_ms,
                 unsigned_in(timing["reconcile_interval_ms"], "timing.reconcile_interval_ms", 100, 600000));
    }
    if (timing["hardware_sync_interval_ms"]) {
      TRY_ASSIGN(c.hardware_sync_interval_ms, unsigned_in(timing["hardware_sync_interval_ms"],
                                                          "timing.hardware_sync_interval_ms", 100, 600000));
    }
    if (timing["chain_retry_ms"]) {
      TRY_ASSIGN(c.chain_retry_ms, unsigned_in(timing["chain_retry_ms"], "timing.chain_retry_ms", 50, 60000));
    }
    if (timing["mlnode_version_check_interval_ms"]) {
      TRY_ASSIGN(c.mlnode_version_check_interval_ms,
                 unsigned_in(timing["mlnode_version_check_interval_ms"],
                             "timing.mlnode_version_check_interval_ms", 100, 3600000));
    }
    if (timing["mlnode_drain_timeout_ms"]) {
      TRY_ASSIGN(c.mlnode_drain_timeout_ms, unsigned_in(timing["mlnode_drain_timeout_ms"],
                                                        "timing.mlnode_drain_timeout_ms", 0, 3600000));
    }
    if (timing["mlnode_load_timeout_ms"]) {
      TRY_ASSIGN(c.mlnode_load_timeout_ms, unsigned_in(timing["mlnode_load_timeout_ms"],
                                                       "timing.mlnode_load_timeout_ms", 1000, 7200000));
    }
  }
  if (const auto& nodes = root["nodes"]; nodes && !nodes.IsNull()) {
    if (!nodes.IsSequence()) return field_error("nodes", "must be a list of nodes");
    std::set<std::string> ids, endpoints;
    for (size_t i = 0; i < nodes.size(); ++i) {
      std::string where = "nodes[" + std::to_string(i) + "]";
      auto node = parse_node(nodes[i], where);
      if (!node) return node.error();
      if (!ids.insert(node->id).second)
        return field_error(where + ".id", "duplicate node id \"" + node->id + "\"");
      for (auto port : {node->inference_port, node->poc_port}) {
        std::string ep = node->host + ":" + std::to_string(port);
        if (!endpoints.insert(ep).second)
          return field_error(where, "host:port " + ep + " is already used by another node");
      }
      c.nodes.push_back(*node);
    }
  }
  if (c.callback_url.empty()) {
    std::string host = c.callback_listen.host == "0.0.0.0" ? "127.0.0.1" : c.callback_listen.host;
    c.callback_url = "http://" + host + ":" + std::to_string(c.callback_listen.port);
  }
  return c;
}

common::Result<Config> load(const std::string& home) {
  auto text = common::read_file(config_path(home));
  if (!text)
    return common::make_error(1, "no " + config_path(home) + "; create it with: dapi init --home " + home);
  auto c = parse(*text, home);
  if (!c) return common::make_error(1, config_path(home) + ": " + c.error().message);
  if (const char* token = std::getenv("DAPI_ADMIN_TOKEN"); token && *token) c->admin_token = token;
  if (const char* keys = std::getenv("DAPI_API_KEYS"); keys && *keys) {
    std::stringstream list(keys);
    for (std::string k; std::getline(list, k, ',');)
      if (!k.empty()) c->api_keys.push_back(k);
  }
  if (c->admin_token.size() < 16) {
    return common::make_error(
        1, config_path(home) + ": admin.token (or env DAPI_ADMIN_TOKEN) must be set, at least 16 characters");
  }
  return c;
}

std::string render_init_config(const InitOptions& o) {
  std::string s;
  s += "# dapi configuration (docs/dapi.md lists every key). dapi reads this file at start and never writes "
       "it.\n";
  s += "# Dynamic state (last processed height, seeds, MLNode versions, pending txs, admin node changes) "
       "lives in\n";
  s += "# the state store (state_dir).\n\n";
  s += "chain_node:\n";
  s += "  url: " + o.chain_node_url + "   # inferenced RPC\n";
  s += "  address_prefix: " + o.address_prefix + "   # bech32 prefix of account addresses\n\n";
  s += "key:\n";
  s += "  name: " + o.key_name + "   # account key in keyring_file (same format as inferenced's keyring)\n";
  s += "  keyring_file: keyring/keys.json   # relative to the home; mode 0600\n";
  s += "  validator_key_file: config/validator_key.json   # ed25519; point at inferenced's on a validator "
       "host\n\n";
  s += "public_url: " + o.public_url + "   # advertised on chain (MsgSubmitNewParticipant)\n\n";
  s += "servers:\n";
  s += "  public: 0.0.0.0:9000            # /metrics (inference routes: issue 12)\n";
  s += "  admin: 127.0.0.1:9200           # /admin/v1/... (loopback only, Bearer token)\n";
  s += "  mlnode_callback: 127.0.0.1:9100 # /v1/poc-batches/generated|validated\n";
  s +=
      "  # mlnode_callback_url: http://10.0.0.5:9100   # what MLNodes call; default from mlnode_callback\n\n";
  s += "admin:\n";
  s += "  token: " + o.admin_token + "   # or env DAPI_ADMIN_TOKEN (wins); at least 16 characters\n\n";
  s += "# api_keys: [\"<a long random key>\"]   # Bearer keys of /v1/chat/completions; env DAPI_API_KEYS "
       "adds more\n";
  s += "# state_dir: data/state\n";
  s += "# log_level: info   # trace|debug|info|warn|error\n";
  s += "# poc: {validation_sample_size: 200}   # nonces per participant recomputed when validating PoC\n";
  s += "# timing:\n";
  s += "#   reconcile_interval_ms: 5000\n";
  s += "#   hardware_sync_interval_ms: 5000\n";
  s += "#   chain_retry_ms: 1000\n";
  s += "#   # the MLNode version switch at an upgrade height (docs/upgrade.md)\n";
  s += "#   mlnode_version_check_interval_ms: 30000\n";
  s += "#   mlnode_drain_timeout_ms: 30000\n";
  s += "#   mlnode_load_timeout_ms: 600000\n";
  s += "# The request path (docs/dapi.md): bounds per hop (ms; first byte and idle bound streams, total a\n";
  s += "# whole non-streamed answer), and networks that calls to participant URLs may reach although they\n";
  s += "# are loopback/private/link-local (refused by default; e.g. [\"127.0.0.0/8\"] on a one-machine "
       "net).\n";
  s += "# inference:\n";
  s += "#   executor_hop: {connect_timeout_ms: 5000, first_byte_timeout_ms: 60000, idle_timeout_ms: 60000, "
       "total_timeout_ms: 300000}\n";
  s += "#   mlnode_hop: {connect_timeout_ms: 5000, first_byte_timeout_ms: 60000, idle_timeout_ms: 60000, "
       "total_timeout_ms: 300000}\n";
  s += "#   client_write_timeout_ms: 10000\n";
  s += "#   allowed_networks: []\n\n";
  s += "# MLNodes. Each model must be a governance model (GET /inference/governance/models on the chain "
       "node).\n";
  s += "# nodes:\n";
  s += "#   - id: gpu-1\n";
  s += "#     host: 10.0.0.7\n";
  s += "#     inference_port: 5000\n";
  s += "#     poc_port: 8080\n";
  s += "#     max_concurrent: 16\n";
  s += "#     models:\n";
  s += "#       Qwen/Qwen2.5-7B-Instruct: {args: [\"--gpu-memory-utilization\", \"0.9\"]}\n";
  s += "#     hardware: [{type: NVIDIA H100 80GB, count: 1}]\n";
  s += "nodes: []\n";
  return s;
}

}  // namespace api::config
