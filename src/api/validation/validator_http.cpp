#include "api/validation/validator_http.h"

#include "api/json_fields.h"

#include <map>

#include "api/validation/payload_endpoint.h"
#include "net/http.h"
#include "net/uri.h"

namespace api::validation {

using nlohmann::json;

namespace {

using api::str;

common::Result<json> get_json(const chain::ChainClient& chain, const std::string& path) {
  auto body = chain.get_raw(path);
  if (!body) return body.error();
  json j = json::parse(*body, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return common::make_error(502, "GET " + path + ": not a JSON object");
  return j;
}

}  // namespace

common::Result<InferenceRecord> ChainView::inference(const std::string& id) {
  auto j = get_json(chain_, "/inference/inferences/" + net::percent_encode(id));
  if (!j) return j.error().code == 404 ? common::make_error(kNotFound, j.error().message) : j.error();
  auto r = record_from_json((*j)["inference"]);
  if (!r) return common::make_error(502, "the record of " + id + " is malformed");
  return *r;
}

common::Result<std::string> ChainView::participant_url(const std::string& address) {
  auto p = chain_.participant(address);
  if (!p) return p.error();
  if (p->url.empty()) return common::make_error(404, "participant " + address + " has no URL");
  return p->url;
}

common::Result<double> ChainView::validation_threshold(const std::string& model) {
  auto g = get_json(chain_, "/inference/epoch-groups/current/" + net::percent_encode(model));
  if (g && (*g)["epoch_group"].is_object() && (*g)["epoch_group"]["model_snapshot"].is_object()) {
    const json& snap = (*g)["epoch_group"]["model_snapshot"];
    if (snap.contains("validation_threshold")) {
      auto t = threshold_from_json(snap["validation_threshold"]);
      if (t) return *t;
    }
  }
  auto m = get_json(chain_, "/inference/governance/models/" + net::percent_encode(model));
  if (!m) return m.error();
  auto t = threshold_from_json((*m)["model"].value("validation_threshold", json(nullptr)));
  if (!t) return common::make_error(502, "the validation_threshold of " + model + " is malformed");
  return *t;
}

common::Result<Payload> HttpPayloadFetcher::fetch(const std::string& executor_url,
                                                  const std::string& executor, const std::string& id) {
  if (!valid_inference_id(id)) return common::make_error(400, "malformed inference id");
  std::string base = executor_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  std::string url = base + "/v1/inferences/" + id + "/payload";
  if (!net::Url::parse(url))
    return common::make_error(400, "the executor's URL " + executor_url + " is not http://");
  net::CallOptions call;
  call.headers = sign_payload_request(key_, address_, id, api::unix_ms(), executor);
  call.timeouts = net::CallTimeouts{std::chrono::milliseconds(5000), timeout_, timeout_, 2 * timeout_};
  call.check_address = [policy = policy_](const std::string& ip) { return net::check_address(policy, ip); };
  auto r = net::Client::request("GET", url, "", call);
  if (!r.ok()) {
    uint32_t code = r.error->refused_address ? kRefusedAddress : r.error->timed_out ? 504 : 502;
    return common::make_error(code, "GET " + url + ": " + r.error->message);
  }
  if (r.response->status != 200) {
    return common::make_error(static_cast<uint32_t>(r.response->status),
                              "GET " + url + ": HTTP " + std::to_string(r.response->status) + ": " +
                                  r.response->body.substr(0, 300));
  }
  json j = json::parse(r.response->body, nullptr, false);
  auto p = payload_from_json(j);
  if (!p) return common::make_error(502, "GET " + url + ": not a payload");
  return *p;
}

common::Result<std::vector<TokenLogprob>> HttpReplayer::replay(const std::string& model,
                                                               const json& request) {
  auto epoch = get_json(chain_, "/inference/epoch");
  if (!epoch) return epoch.error();
  bool poc = epoch->contains("upcoming_epoch_index") && !(*epoch)["upcoming_epoch_index"].is_null();
  auto group = get_json(chain_, "/inference/epoch-groups/current/" + net::percent_encode(model));
  if (!group && group.error().code != 404) return group.error();
  std::map<std::string, bool> mine;  // node id -> POC_SLOT
  if (group) {
    for (const auto& m : (*group)["epoch_group"].value("validation_weights", json::array())) {
      if (str(m, "member_address") != address_) continue;
      for (const auto& n : m.value("ml_nodes", json::array())) {
        auto ts = n.value("timeslot_allocation", json::array());
        mine[str(n, "node_id")] = ts.size() > 1 && ts[1].is_boolean() && ts[1].get<bool>();
      }
    }
  }
  const config::NodeConfig* node = nullptr;
  auto nodes = local_nodes_();
  for (const auto& n : nodes) {
    auto it = mine.find(n.id);
    if (it == mine.end() || !n.models.count(model) || (poc && !it->second)) continue;
    if (versions_ && versions_->switching(n.id)) continue;  // moving to a new MLNode version
    node = &n;
    break;
  }
  if (!node) {
    bool mining = false;  // during PoC: a node that serves the model once the PoC is over
    for (const auto& n : nodes) mining = mining || (poc && mine.count(n.id) && n.models.count(model));
    if (mining) {
      return common::make_error(kNoNodeDuringPoc, "the local MLNodes of " + address_ + " for " + model +
                                                      " mine during PoC (only POC_SLOT nodes serve); retried "
                                                      "after the epoch switch");
    }
    return common::make_error(kNoNode, "no local MLNode of " + address_ + " serves " + model +
                                           " in this epoch" +
                                           (poc ? " (PoC: only POC_SLOT nodes serve)" : ""));
  }
  // The node's version now, counted in flight so an MLNode upgrade drains this replay first; without the
  // shared source (unit tests) the chain's current version.
  auto use = versions_ ? versions_->use(node->id) : nullptr;
  std::string v;
  if (use) {
    v = use->version();
  } else {
    auto version = chain_.mlnode_version();
    if (!version) return version.error();
    v = version->current_mlnode_version;
  }
  std::string url = "http://" + node->host + ":" + std::to_string(node->inference_port) +
                    (v.empty() ? "" : "/" + v) + "/v1/chat/completions";
  auto r = net::Client::request("POST", url, request.dump(-1, ' ', false, json::error_handler_t::replace),
                                timeout_, {{"content-type", "application/json"}});
  if (!r.ok()) return common::make_error(502, "MLNode " + node->id + ": " + r.error->message);
  if (r.response->status / 100 != 2) {
    return common::make_error(502, "MLNode " + node->id + " answered " + std::to_string(r.response->status) +
                                       ": " + r.response->body.substr(0, 300));
  }
  json out = json::parse(r.response->body, nullptr, false);
  if (out.is_discarded() || !out.is_object() || !out["choices"].is_array() || out["choices"].empty())
    return common::make_error(502, "MLNode " + node->id + " sent no choices");
  std::vector<TokenLogprob> tokens;
  if (!append_logprobs(out["choices"][0], tokens))
    return common::make_error(502, "MLNode " + node->id + " sent malformed logprobs");
  return tokens;
}

}  // namespace api::validation
