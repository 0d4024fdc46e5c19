#include "api/state/node_registry.h"

#include <algorithm>
#include <set>

#include "api/config/node_json.h"
#include "common/log.h"

namespace api::state {

NodeRegistry::NodeRegistry(std::vector<config::NodeConfig> configured, StateStore& store)
    : configured_(std::move(configured)), store_(store) {
  std::lock_guard lock(mu_);
  nodes_ = compute();
}

std::vector<NodeEntry> NodeRegistry::compute() const {
  std::set<std::string> deleted, disabled;
  for (const auto& [key, _] : store_.scan(keys::node_deleted_prefix())) {
    deleted.insert(key.substr(keys::node_deleted_prefix().size()));
  }
  for (const auto& [key, _] : store_.scan(keys::node_disabled_prefix())) {
    disabled.insert(key.substr(keys::node_disabled_prefix().size()));
  }
  std::vector<config::NodeConfig> upserts;
  for (const auto& [key, value] : store_.scan(keys::node_upsert_prefix())) {
    auto node = config::node_from_json_text(value);
    if (!node) {
      spdlog::error("state store: ignoring unreadable admin node {}: {}", key, node.error().message);
      continue;
    }
    upserts.push_back(*node);
  }
  std::vector<NodeEntry> out;
  std::set<std::string> seen;
  for (const auto& c : configured_) {
    if (deleted.count(c.id)) continue;
    auto up = std::find_if(upserts.begin(), upserts.end(), [&](const auto& u) { return u.id == c.id; });
    out.push_back(NodeEntry{up != upserts.end() ? *up : c, !disabled.count(c.id)});
    seen.insert(c.id);
  }
  for (const auto& u : upserts) {
    if (!seen.count(u.id)) out.push_back(NodeEntry{u, !disabled.count(u.id)});
  }
  return out;
}

std::vector<NodeEntry> NodeRegistry::list() const {
  std::lock_guard lock(mu_);
  return nodes_;
}

std::optional<NodeEntry> NodeRegistry::get(const std::string& id) const {
  std::lock_guard lock(mu_);
  for (const auto& n : nodes_) {
    if (n.config.id == id) return n;
  }
  return std::nullopt;
}

uint64_t NodeRegistry::generation() const {
  std::lock_guard lock(mu_);
  return generation_;
}

common::Status NodeRegistry::check_conflicts(const config::NodeConfig& node,
                                             const std::string& ignore_id) const {
  auto endpoints = [](const config::NodeConfig& n) {
    return std::set<std::string>{n.host + ":" + std::to_string(n.inference_port),
                                 n.host + ":" + std::to_string(n.poc_port)};
  };
  auto mine = endpoints(node);
  if (node.inference_port == node.poc_port) {
    return common::make_error(400, "node \"" + node.id + "\": inference_port and poc_port must differ");
  }
  for (const auto& other : nodes_) {
    if (other.config.id == ignore_id) continue;
    if (other.config.id == node.id) {
      return common::make_error(409, "node id \"" + node.id + "\" already exists; use PUT /admin/v1/nodes/" +
                                         node.id + " to change it");
    }
    for (const auto& ep : endpoints(other.config)) {
      if (mine.count(ep)) {
        return common::make_error(409,
                                  "host:port " + ep + " is already used by node \"" + other.config.id + "\"");
      }
    }
  }
  return {};
}

common::Status NodeRegistry::add(const config::NodeConfig& node) {
  {
    std::lock_guard lock(mu_);
    TRY_STATUS(check_conflicts(node, ""));
    WriteSet ws;
    ws.put(keys::node_upsert(node.id), config::node_to_json(node).dump());
    ws.erase(keys::node_deleted(node.id));
    ws.erase(keys::node_disabled(node.id));
    if (auto st = store_.write(ws); !st) return common::make_error(500, st.error().message);
    nodes_ = compute();
    ++generation_;
  }
  changed();
  return {};
}

common::Status NodeRegistry::replace(const std::string& id, const config::NodeConfig& node) {
  {
    std::lock_guard lock(mu_);
    if (node.id != id) {
      return common::make_error(400, "body id \"" + node.id + "\" differs from the path id \"" + id +
                                         "\"; a node's id cannot change (DELETE it and POST a new one)");
    }
    bool known = std::any_of(nodes_.begin(), nodes_.end(), [&](const auto& n) { return n.config.id == id; });
    if (!known) return common::make_error(404, "no node \"" + id + "\"");
    TRY_STATUS(check_conflicts(node, id));
    if (auto st = store_.write(WriteSet().put(keys::node_upsert(id), config::node_to_json(node).dump()));
        !st) {
      return common::make_error(500, st.error().message);
    }
    nodes_ = compute();
    ++generation_;
  }
  changed();
  return {};
}

common::Status NodeRegistry::remove(const std::string& id) {
  {
    std::lock_guard lock(mu_);
    bool known = std::any_of(nodes_.begin(), nodes_.end(), [&](const auto& n) { return n.config.id == id; });
    if (!known) return common::make_error(404, "no node \"" + id + "\"");
    WriteSet ws;
    ws.erase(keys::node_upsert(id));
    ws.erase(keys::node_disabled(id));
    bool configured =
        std::any_of(configured_.begin(), configured_.end(), [&](const auto& c) { return c.id == id; });
    if (configured) ws.put(keys::node_deleted(id), "");
    if (auto st = store_.write(ws); !st) return common::make_error(500, st.error().message);
    nodes_ = compute();
    ++generation_;
  }
  changed();
  return {};
}

common::Status NodeRegistry::set_enabled(const std::string& id, bool enabled) {
  {
    std::lock_guard lock(mu_);
    bool known = std::any_of(nodes_.begin(), nodes_.end(), [&](const auto& n) { return n.config.id == id; });
    if (!known) return common::make_error(404, "no node \"" + id + "\"");
    WriteSet ws;
    if (enabled) {
      ws.erase(keys::node_disabled(id));
    } else {
      ws.put(keys::node_disabled(id), "");
    }
    if (auto st = store_.write(ws); !st) return common::make_error(500, st.error().message);
    nodes_ = compute();
    ++generation_;
  }
  changed();
  return {};
}

void NodeRegistry::on_change(std::function<void()> callback) {
  std::lock_guard lock(mu_);
  callback_ = std::move(callback);
}

void NodeRegistry::changed() {
  std::function<void()> cb;
  {
    std::lock_guard lock(mu_);
    cb = callback_;
  }
  if (cb) cb();
}

}  // namespace api::state
