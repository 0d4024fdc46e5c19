#include "api/config/node_json.h"

#include <set>

namespace api::config {

common::Error field_error(const std::string& field, const std::string& what) {
  return common::make_error(1, field + ": " + what);
}

namespace {

using ojson = nlohmann::ordered_json;

common::Result<uint64_t> get_uint(const ojson& j, const std::string& field, uint64_t lo, uint64_t hi) {
  if (!j.is_number_unsigned() && !(j.is_number_integer() && j.get<int64_t>() >= 0)) {
    return field_error(field,
                       "must be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  }
  uint64_t v = j.get<uint64_t>();
  if (v < lo || v > hi) {
    return field_error(field, "must be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) +
                                  "], got " + std::to_string(v));
  }
  return v;
}

}  // namespace

ojson node_to_json(const NodeConfig& node) {
  ojson models = ojson::object();
  for (const auto& id : node.model_order) models[id] = ojson{{"args", node.models.at(id).args}};
  ojson hardware = ojson::array();
  for (const auto& h : node.hardware) hardware.push_back(ojson{{"type", h.type}, {"count", h.count}});
  return ojson{{"id", node.id},
               {"host", node.host},
               {"inference_port", node.inference_port},
               {"poc_port", node.poc_port},
               {"models", models},
               {"max_concurrent", node.max_concurrent},
               {"hardware", hardware}};
}

common::Result<NodeConfig> node_from_json_text(const std::string& text) {
  auto j = ojson::parse(text, nullptr, false);
  if (j.is_discarded()) return common::make_error(1, "body is not valid JSON");
  return node_from_json(j);
}

common::Result<NodeConfig> node_from_json(const ojson& j) {
  static const std::set<std::string> allowed{"id",     "host",           "inference_port", "poc_port",
                                             "models", "max_concurrent", "hardware"};
  if (!j.is_object())
    return common::make_error(1,
                              "a node must be a JSON object with fields id, host, inference_port, "
                              "poc_port, models, max_concurrent, hardware");
  for (const auto& [key, _] : j.items()) {
    if (!allowed.count(key)) {
      return field_error(
          key,
          "unknown field; allowed: id, host, inference_port, poc_port, models, max_concurrent, hardware");
    }
  }
  for (const char* required : {"id", "host", "inference_port", "poc_port", "models"}) {
    if (!j.contains(required)) return field_error(required, "is required");
  }
  NodeConfig n;
  if (!j["id"].is_string()) return field_error("id", "must be a string");
  if (!j["host"].is_string()) return field_error("host", "must be a string");
  n.id = j["id"].get<std::string>();
  n.host = j["host"].get<std::string>();
  auto ip = get_uint(j["inference_port"], "inference_port", 1, 65535);
  if (!ip) return ip.error();
  n.inference_port = static_cast<uint16_t>(*ip);
  auto pp = get_uint(j["poc_port"], "poc_port", 1, 65535);
  if (!pp) return pp.error();
  n.poc_port = static_cast<uint16_t>(*pp);
  if (j.contains("max_concurrent")) {
    auto mc = get_uint(j["max_concurrent"], "max_concurrent", 1, 100000);
    if (!mc) return mc.error();
    n.max_concurrent = static_cast<uint32_t>(*mc);
  }
  const auto& models = j["models"];
  if (!models.is_object()) return field_error("models", "must be an object of model id to {\"args\": [...]}");
  for (const auto& [id, spec] : models.items()) {
    ModelConfig mc;
    std::string field = "models." + id;
    if (!spec.is_null()) {
      if (!spec.is_object()) return field_error(field, "must be an object {\"args\": [...]}");
      for (const auto& [k, v] : spec.items()) {
        if (k != "args") return field_error(field + "." + k, "unknown field; allowed: args");
        if (!v.is_array()) return field_error(field + ".args", "must be an array of strings");
        for (const auto& a : v) {
          if (!a.is_string()) return field_error(field + ".args", "must be an array of strings");
          mc.args.push_back(a.get<std::string>());
        }
      }
    }
    n.models[id] = mc;
    n.model_order.push_back(id);
  }
  if (j.contains("hardware")) {
    if (!j["hardware"].is_array())
      return field_error("hardware", "must be an array of {\"type\", \"count\"}");
    for (const auto& h : j["hardware"]) {
      if (!h.is_object() || !h.contains("type") || !h["type"].is_string()) {
        return field_error("hardware", "each entry must be {\"type\": string, \"count\": integer}");
      }
      for (const auto& [k, _] : h.items()) {
        if (k != "type" && k != "count")
          return field_error("hardware." + k, "unknown field; allowed: type, count");
      }
      Hardware hw{h["type"].get<std::string>(), 1};
      if (h.contains("count")) {
        auto c = get_uint(h["count"], "hardware.count", 1, 1024);
        if (!c) return c.error();
        hw.count = static_cast<uint32_t>(*c);
      }
      n.hardware.push_back(hw);
    }
  }
  TRY_STATUS(validate_node(n, "node"));
  return n;
}

}  // namespace api::config
