#include "api/server/admin_server.h"

#include <algorithm>
#include <memory>

#include <openssl/crypto.h>

#include "api/config/node_json.h"
#include "common/log.h"

namespace api::server {
namespace {

using nlohmann::json;

bool token_ok(const net::Request& req, const std::string& token) {
  std::string auth = req.header("authorization");
  const std::string prefix = "Bearer ";
  if (token.empty() || auth.size() != prefix.size() + token.size() || auth.rfind(prefix, 0) != 0)
    return false;
  return CRYPTO_memcmp(auth.data() + prefix.size(), token.data(), token.size()) == 0;
}

bool loopback(const std::string& addr) {
  return addr == "127.0.0.1" || addr == "::1" || addr.rfind("127.", 0) == 0 || addr == "::ffff:127.0.0.1";
}

net::Response error_from(const common::Error& e) {
  int status = e.code >= 400 && e.code < 600 ? static_cast<int>(e.code) : 400;
  const char* code = status == 404   ? "not_found"
                     : status == 409 ? "conflict"
                     : status == 503 ? "unavailable"
                     : status == 500 ? "internal"
                                     : "invalid_request";
  return net::json_error(status, code, e.message);
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out.empty() ? "(none)" : out;
}

struct Admin {
  AdminDeps deps;

  json entry_json(const state::NodeEntry& e) const {
    json state = deps.node_state ? deps.node_state(e.config.id) : json::object();
    return json{{"node", json::parse(config::node_to_json(e.config).dump())},
                {"enabled", e.enabled},
                {"state", state}};
  }

  // Parses the body and checks its models against governance.
  common::Result<config::NodeConfig> checked_node(const net::Request& req) const {
    auto node = config::node_from_json_text(req.body);
    if (!node) return common::make_error(400, node.error().message);
    auto registered = deps.governance_model_ids();
    if (!registered) {
      return common::make_error(503, "cannot read the governance model registry from the chain node: " +
                                         registered.error().message + "; retry later");
    }
    auto msg = unknown_models_message(node->id, node->model_order, *registered);
    if (!msg.empty()) return common::make_error(400, msg);
    return node;
  }

  void changed() const {
    if (deps.on_change) deps.on_change();
  }
};

}  // namespace

std::string unknown_models_message(const std::string& node_id, const std::vector<std::string>& node_models,
                                   const std::vector<std::string>& registered) {
  std::vector<std::string> unknown;
  for (const auto& m : node_models) {
    if (std::find(registered.begin(), registered.end(), m) == registered.end())
      unknown.push_back("\"" + m + "\"");
  }
  if (unknown.empty()) return "";
  std::vector<std::string> sorted = registered;
  std::sort(sorted.begin(), sorted.end());
  return std::string(unknown.size() == 1 ? "unknown model " : "unknown models ") + join(unknown) +
         " in node \"" + node_id + "\"; registered models: " + join(sorted);
}

net::Router admin_router(AdminDeps deps) {
  auto admin = std::make_shared<Admin>(Admin{std::move(deps)});
  // Every route: loopback peer and the token first.
  auto guarded = [admin](auto handler) {
    return [admin, handler](const net::Request& req) -> net::Response {
      if (!loopback(req.remote_address)) {
        return net::json_error(403, "forbidden", "the admin API only answers loopback clients");
      }
      if (!token_ok(req, admin->deps.token)) {
        return net::json_error(401, "unauthorized",
                               "missing or wrong admin token: send Authorization: Bearer <token>");
      }
      return handler(req);
    };
  };
  net::Router r;
  r.add("GET", "/admin/v1/nodes", guarded([admin](const net::Request&) {
          json list = json::array();
          for (const auto& e : admin->deps.nodes->list()) list.push_back(admin->entry_json(e));
          return net::json_response(200, json{{"nodes", list}}.dump());
        }));
  r.add("POST", "/admin/v1/nodes", guarded([admin](const net::Request& req) {
          auto node = admin->checked_node(req);
          if (!node) return error_from(node.error());
          if (auto st = admin->deps.nodes->add(*node); !st) return error_from(st.error());
          spdlog::info("admin: added node {} ({}:{}/{})", node->id, node->host, node->inference_port,
                       node->poc_port);
          admin->changed();
          return net::json_response(201, admin->entry_json(*admin->deps.nodes->get(node->id)).dump());
        }));
  r.add("GET", "/admin/v1/nodes/{id}", guarded([admin](const net::Request& req) {
          auto id = req.path_params.at("id");
          auto e = admin->deps.nodes->get(id);
          if (!e) return net::json_error(404, "not_found", "no node \"" + id + "\"");
          return net::json_response(200, admin->entry_json(*e).dump());
        }));
  r.add("PUT", "/admin/v1/nodes/{id}", guarded([admin](const net::Request& req) {
          auto id = req.path_params.at("id");
          if (!admin->deps.nodes->get(id)) return net::json_error(404, "not_found", "no node \"" + id + "\"");
          auto node = admin->checked_node(req);
          if (!node) return error_from(node.error());
          if (auto st = admin->deps.nodes->replace(id, *node); !st) return error_from(st.error());
          spdlog::info("admin: replaced node {}", id);
          admin->changed();
          return net::json_response(200, admin->entry_json(*admin->deps.nodes->get(id)).dump());
        }));
  r.add("DELETE", "/admin/v1/nodes/{id}", guarded([admin](const net::Request& req) {
          auto id = req.path_params.at("id");
          if (auto st = admin->deps.nodes->remove(id); !st) return error_from(st.error());
          spdlog::info("admin: deleted node {}", id);
          admin->changed();
          return net::json_response(200, json{{"deleted", id}}.dump());
        }));
  for (const std::string action : {"enable", "disable"}) {
    r.add("POST", "/admin/v1/nodes/{id}/" + action, guarded([admin, action](const net::Request& req) {
            auto id = req.path_params.at("id");
            if (auto st = admin->deps.nodes->set_enabled(id, action == "enable"); !st)
              return error_from(st.error());
            spdlog::info("admin: {}d node {}", action, id);
            admin->changed();
            return net::json_response(200, admin->entry_json(*admin->deps.nodes->get(id)).dump());
          }));
  }
  return r;
}

}  // namespace api::server
