#include "api/inference/service.h"

#include "api/json_fields.h"

#include <openssl/rand.h>
#include <thread>

#include <algorithm>
#include <deque>
#include <limits>
#include <mutex>
#include <set>

#include <nlohmann/json.hpp>

#include "api/inference/chat_request.h"
#include "api/inference/hop_signature.h"
#include "api/inference/node_pool.h"
#include "api/inference/openai_error.h"
#include "api/inference/relay.h"
#include "api/inference/requester_auth.h"
#include "api/mlnode/mlnode_client.h"
#include "common/bytes.h"
#include "common/hash.h"
#include "common/log.h"
#include "common/tx/codes.h"
#include "inference/inference.pb.h"
#include "net/uri.h"

namespace api::inference {

using nlohmann::json;

namespace {

constexpr const char* kStartUrl = "/inference.inference.MsgStartInference";
constexpr const char* kFinishUrl = "/inference.inference.MsgFinishInference";
constexpr size_t kMaxRemembered = 100000;  // executor replay memory (ids)

std::string random_hex(size_t bytes) {
  std::string raw(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) != 1) {
    throw std::runtime_error("no random source");
  }
  return common::to_hex(raw);
}

int64_t now_ms() {
  return api::unix_ms();
}

uint64_t u64(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) return 0;
  if (it->is_number_unsigned()) return it->get<uint64_t>();
  if (it->is_string()) {
    try {
      return std::stoull(it->get<std::string>());
    } catch (...) {
      return 0;
    }
  }
  return 0;
}

using api::str;

// How long the executor waits for a forwarded inference to appear on its own chain node (see executor_role).
constexpr int64_t kStartVisibleWaitMs = 5000;

std::string trim_slash(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

// Thrown inside a request to answer with an OpenAI error (before anything was sent).
struct Refusal {
  int status;
  std::string code;
  std::string message;
  net::Headers headers = {};
};

// Why one executor of a transfer agent's request failed before anything reached the client, so that another
// may be tried (hop_policy.h): `busy` for a 429 (every MLNode of the executor full), with its Retry-After.
struct ExecutorHopFailure {
  std::string why;
  bool busy = false;
  std::string retry_after;
};

}  // namespace

struct InferenceService::Impl {
  InferenceDeps d;
  InferenceOptions o;
  NodePool pool;
  std::mutex seen_mu;
  std::set<std::string> seen;
  RequestReplayCache requester_replays;  // requester-signed requests of the last window (409 on a replay)
  std::mutex chain_id_mu;
  std::string chain_id;  // read once from the chain's /status

  std::string chain_id_or_refuse() {
    std::lock_guard lock(chain_id_mu);
    if (chain_id.empty()) {
      auto st = d.chain->status();
      if (!st || st->chain_id.empty()) {
        throw Refusal{503, "chain_unavailable",
                      "cannot read the chain id: " + (st ? std::string("empty") : st.error().message)};
      }
      chain_id = st->chain_id;
    }
    return chain_id;
  }

  // A requester-signed request (docs/requester-signature.md): 400 malformed headers, 401 stale or future
  // timestamp / bad signature / no public key on chain, 409 a replay. Returns the requester (it pays).
  SignedRequester authenticate_requester(const net::Request& req) {
    RequestError err;
    auto r = parse_requester_headers(req, err);
    if (!r) throw Refusal{err.status, err.code, err.message};
    auto account = d.chain->account(r->address);
    if (!account) {
      count("transfer_agent", "invalid_signature");
      throw Refusal{401, "invalid_signature",
                    "the requester account " + r->address +
                        " cannot be read from the chain (unknown or unfunded: " + account.error().message +
                        ")"};
    }
    const std::string& public_key = account->public_key;
    auto e = check_signed_request(*r, public_key, chain_id_or_refuse(), d.address, now_ms());
    if (e.status != 0) {
      count("transfer_agent", e.code);
      throw Refusal{e.status, e.code, e.message};
    }
    if (!requester_replays.remember(*r, now_ms())) {
      count("transfer_agent", "replayed_request");
      throw Refusal{409, "replayed_request",
                    "this signed request (requester " + r->address + ", timestamp " +
                        std::to_string(r->timestamp_ms) + ") was already received; sign each request anew"};
    }
    return *r;
  }
  std::deque<std::string> seen_order;

  Impl(InferenceDeps deps, InferenceOptions options) : d(std::move(deps)), o(options) {}

  void count(const std::string& role, const std::string& outcome) {
    if (d.metrics) {
      d.metrics->counter_add("dapi_inference_requests_total", "Chat completion requests by role and outcome",
                             {{"role", role}, {"outcome", outcome}});
    }
  }

  // Seconds since `since` into a latency histogram of the request path (docs/dapi-inference.md#metrics).
  void observe(const std::string& name, const server::Labels& labels,
               std::chrono::steady_clock::time_point since) const {
    if (!d.metrics) return;
    std::chrono::duration<double> s = std::chrono::steady_clock::now() - since;
    const char* help = name == "dapi_inference_request_seconds"
                           ? "Time to answer a chat completion, by role (received to last byte sent)"
                           : "Outbound calls of the request path: to the first byte and to the end, by hop";
    d.metrics->histogram_observe(name, help, labels, s.count());
  }

  // The options of a call to a participant URL: the hop's bounds and the outbound address policy.
  net::CallOptions participant_call(const net::CallTimeouts& timeouts, net::Headers headers,
                                    net::CancelCheck cancelled = {}) const {
    net::CallOptions c;
    c.timeouts = timeouts;
    c.headers = std::move(headers);
    c.cancelled = std::move(cancelled);
    c.check_address = [policy = o.outbound](const std::string& ip) { return net::check_address(policy, ip); };
    return c;
  }

  common::Result<json> query(const std::string& path) const {
    auto body = d.chain->get_raw(path);
    if (!body) return body.error();
    json j = json::parse(*body, nullptr, false);
    if (j.is_discarded() || !j.is_object())
      return common::make_error(502, "GET " + path + ": not a JSON object");
    return j;
  }

  json query_or_refuse(const std::string& path, const std::string& what) const {
    auto j = query(path);
    if (!j)
      throw Refusal{503, "chain_unavailable",
                    "cannot read " + what + " from the chain: " + j.error().message};
    return *j;
  }

  // A sub-group serves its model when it has a snapshot and at least one member with weight.
  static bool serving(const json& group) {
    if (!group.is_object() || !group["model_snapshot"].is_object()) return false;
    for (const auto& m : group.value("validation_weights", json::array())) {
      if (m.is_object() && u64(m, "weight") > 0) return true;
    }
    return false;
  }

  // (model id, sub-group) of every model served in the current epoch, in the chain's order.
  std::vector<std::pair<std::string, json>> served_groups() const {
    auto parent = query("/inference/epoch-groups/current");
    std::vector<std::pair<std::string, json>> out;
    if (!parent) return out;
    for (const auto& m : (*parent)["epoch_group"].value("sub_group_models", json::array())) {
      if (!m.is_string()) continue;
      auto g = query("/inference/epoch-groups/current/" + net::percent_encode(m.get<std::string>()));
      if (g && serving((*g)["epoch_group"])) out.emplace_back(m.get<std::string>(), (*g)["epoch_group"]);
    }
    return out;
  }

  // The model's sub-group of the current epoch; 404 listing the served models when it has none.
  json model_group(const std::string& model) const {
    auto g = query("/inference/epoch-groups/current/" + net::percent_encode(model));
    if (g && serving((*g)["epoch_group"])) return (*g)["epoch_group"];
    if (!g && g.error().code != 404) {
      throw Refusal{503, "chain_unavailable",
                    "cannot read the epoch group of model " + model + ": " + g.error().message};
    }
    std::string list;
    for (const auto& [m, _] : served_groups()) list += (list.empty() ? "" : ", ") + m;
    throw Refusal{
        404, "model_not_found",
        "The model `" + model + "` is not served in the current epoch; served models: [" + list + "]"};
  }

  // Without InferenceDeps::versions (unit tests): the chain's current version, read per call.
  std::string chain_mlnode_version() const {
    auto v = d.chain->mlnode_version();
    if (!v) throw Refusal{503, "chain_unavailable", "cannot read the MLNode version: " + v.error().message};
    return v->current_mlnode_version;
  }

  std::string node_base(const config::NodeConfig& n, uint16_t port) const {
    return "http://" + n.host + ":" + std::to_string(port);
  }

  // ---------------------------------------------------------------- transfer agent
  // Prompt tokens of `messages` counted by a local MLNode serving `model` (its /tokenize); nullopt with
  // `why` set when none can (none configured, or all mine during PoC or are down).
  std::optional<uint64_t> count_locally(const std::string& model, const json& messages,
                                        std::string& why) const {
    why = "no local MLNode is configured for this model";
    for (const auto& n : d.local_nodes()) {
      if (!n.models.count(model)) continue;
      if (d.versions && d.versions->switching(n.id)) continue;  // moving to a new MLNode version
      // The node's MLNode version now (api/upgrade/node_versions.h), counted in flight for an upgrade's
      // drain.
      auto use = d.versions ? d.versions->use(n.id) : nullptr;
      const std::string version = use ? use->version() : chain_mlnode_version();
      mlnode::MlNodeClientOptions mo;
      mo.timeouts.tokenize = o.tokenize_timeout;
      mlnode::MlNodeClient client(node_base(n, n.inference_port), node_base(n, n.poc_port), version, mo);
      mlnode::TokenizeRequest t;
      t.model = model;
      t.messages = messages;
      auto res = client.tokenize(t);
      if (res) return res->count;
      why = "node " + n.id + ": " + res.error().message;
    }
    return std::nullopt;
  }

  // The tokenize hop: another participant serving the model (an executor drawn by the chain's query) counts
  // the prompt on its MLNode. A few draws; 503 when none answers.
  uint64_t count_remotely(const ChatRequest& r, const std::string& local_failure) const {
    json req = {{"model", r.model}, {"messages", r.body["messages"]}};
    std::string body = req.dump();
    std::string last = "locally: " + local_failure;
    std::set<std::string> tried{d.address};
    for (int draw = 0; draw < 6 && tried.size() < 4; ++draw) {
      json exec = query_or_refuse(
          "/inference/executor?model=" + net::percent_encode(r.model) + "&seed=" + random_hex(8),
          "the executor");
      std::string executor = str(exec, "participant");
      std::string url = trim_slash(str(exec, "url"));
      if (executor.empty() || !tried.insert(executor).second) continue;
      auto headers = sign_tokenize(d.key, d.address, now_ms(), executor, body);
      headers["content-type"] = "application/json";
      net::CallTimeouts t{std::min(o.executor_hop.connect, o.tokenize_timeout), o.tokenize_timeout,
                          o.tokenize_timeout, o.tokenize_timeout};
      auto res = net::Client::request("POST", url + "/v1/tokenize", body, participant_call(t, headers));
      if (!res.ok()) {
        last = "executor " + executor + ": " + res.error->message;
        continue;
      }
      json out = json::parse(res.response->body, nullptr, false);
      if (res.response->status == 200 && out.is_object() && out["count"].is_number_unsigned())
        return out["count"].get<uint64_t>();
      last = "executor " + executor + " answered " + std::to_string(res.response->status) + ": " +
             res.response->body.substr(0, 300);
    }
    throw Refusal{503, "tokenizer_unavailable", "cannot count the prompt tokens: " + last};
  }

  uint64_t count_prompt_tokens(const ChatRequest& r) const {
    std::string why;
    if (auto n = count_locally(r.model, r.body["messages"], why)) return *n;
    spdlog::debug("cannot count the prompt tokens locally ({}); asking another participant", why);
    return count_remotely(r, why);
  }

  void transfer_agent(const net::Request& req, net::ResponseWriter& w) {
    // A requester-signed request is paid by its signer; otherwise an API key makes this participant pay.
    std::optional<SignedRequester> signed_by;
    std::string requester = d.address;
    if (has_requester_headers(req)) {
      signed_by = authenticate_requester(req);
      requester = signed_by->address;
    }
    std::string key = signed_by ? std::string() : bearer_token(req.header("authorization"));
    if (!signed_by && key.empty()) {
      throw Refusal{401, "missing_api_key",
                    "You didn't provide an API key: send Authorization: Bearer <key> (a key from this dapi's "
                    "config)"};
    }
    if (!signed_by && !api_key_allowed(key, d.api_keys))
      throw Refusal{401, "invalid_api_key", "Incorrect API key provided"};
    RequestError err;
    auto r = parse_chat_request(req.body, err);
    if (!r) throw Refusal{err.status, err.code, err.message};
    json group = model_group(r->model);
    const json& snap = group["model_snapshot"];
    uint64_t context = u64(snap, "context_window");
    uint64_t max_tokens = r->max_tokens.value_or(o.default_max_tokens);
    if (context > 0 && max_tokens > context) {
      throw Refusal{400, "context_length_exceeded",
                    "max_tokens " + std::to_string(max_tokens) + " is above the context window of " +
                        r->model + " (" + std::to_string(context) + " tokens)"};
    }
    uint64_t prompt = count_prompt_tokens(*r);
    if (context > 0 && prompt + max_tokens > context) {
      throw Refusal{400, "context_length_exceeded",
                    "the prompt (" + std::to_string(prompt) + " tokens) plus max_tokens " +
                        std::to_string(max_tokens) + " exceed the context window of " + r->model + " (" +
                        std::to_string(context) + " tokens)"};
    }
    uint64_t uoc = u64(snap, "units_of_compute_per_token"), unit_price = u64(group, "unit_of_compute_price");
    if (uoc != 0 && unit_price > std::numeric_limits<uint64_t>::max() / uoc) {
      throw Refusal{503, "price_overflow", "the per-token price of " + r->model + " overflows"};
    }
    uint64_t price = uoc * unit_price;
    auto escrow = escrow_amount(prompt, max_tokens, price);
    if (!escrow) throw Refusal{400, "invalid_value", "max_tokens x the per-token price overflows"};
    auto balance = d.chain->balance(requester, o.denom);
    if (!balance)
      throw Refusal{503, "chain_unavailable", "cannot read the balance: " + balance.error().message};
    if (*balance < *escrow) {
      throw Refusal{402, "insufficient_quota",
                    "the requester " + requester + " has " + std::to_string(*balance) + o.denom +
                        "; the escrow of (" + std::to_string(prompt) + " prompt + " +
                        std::to_string(max_tokens) + " max) tokens x " + std::to_string(price) + " is " +
                        std::to_string(*escrow) + o.denom};
    }
    // What the executor runs: the client's body with the completion budget made explicit.
    json body = r->body;
    body.erase("max_completion_tokens");
    body["max_tokens"] = max_tokens;
    std::string forwarded = body.dump();
    // Failover: an executor that cannot be reached, answers 5xx or is busy (429, or this participant's own
    // nodes all full) before its first byte is replaced by another draw of the executor query, with a new
    // inference (MsgStartInference binds one executor node; the abandoned one is never finished and expires
    // with its whole escrow refunded).
    std::string last_failure;
    bool every_executor_busy = true;
    std::string retry_after = std::to_string(o.retry_after_seconds);
    std::set<std::string> failed;
    // The chain accepts a signed request once: no second executor for it.
    int attempts = signed_by ? 1 : o.executor_attempts;
    for (int attempt = 1; attempt <= attempts; ++attempt) {
      // Another executor than those that failed: a few more draws of the query (no tx) when it names one
      // again.
      json exec;
      std::string executor, executor_node, executor_url;
      for (int draw = 0; draw < 8; ++draw) {
        exec = query_or_refuse(
            "/inference/executor?model=" + net::percent_encode(r->model) + "&seed=" + random_hex(8),
            "the executor");
        executor = str(exec, "participant");
        executor_node = str(exec, "node_id");
        executor_url = trim_slash(str(exec, "url"));
        if (!failed.count(executor)) break;
      }
      if (executor.empty() || executor_node.empty()) {
        throw Refusal{503, "no_executor", "the chain named no executor for " + r->model};
      }
      std::string id = "chatcmpl-" + random_hex(16);
      ::inference::inference::MsgStartInference msg;
      msg.set_creator(d.address);
      msg.set_inference_id(id);
      msg.set_model(r->model);
      msg.set_executor(executor);
      msg.set_executor_node(executor_node);
      msg.set_prompt_hash(common::sha256(forwarded));
      msg.set_max_tokens(prompt + max_tokens);
      if (signed_by) {
        msg.set_requester(signed_by->address);
        msg.set_request_hash(signed_by->body_hash);
        msg.set_request_timestamp_ms(signed_by->timestamp_ms);
        msg.set_requester_signature(signed_by->signature);
      }
      auto sent = d.sender->send_and_wait({common::tx::TxMessage{kStartUrl, msg.SerializeAsString()}});
      uint32_t code = sent ? sent->code : sent.error().code;
      if (!sent || sent->code != 0) {
        std::string why = sent ? sent->log : sent.error().message;
        spdlog::warn("inference {}: MsgStartInference refused or not included: {}", id, why);
        if (code == common::tx::codes::kInsufficientFunds) throw Refusal{402, "insufficient_quota", why};
        if (signed_by && code == common::tx::codes::kUnauthorized) {
          // The chain judges the signed request by the block time and its own replay index.
          bool replay = why.find("replay") != std::string::npos;
          throw Refusal{replay ? 409 : 401, replay ? "replayed_request" : "invalid_signature", why};
        }
        throw Refusal{503, "start_failed", "MsgStartInference failed: " + why};
      }
      spdlog::info(
          "inference {}: started at height {} (model {}, executor {} node {}, prompt {} + max {} tokens, "
          "escrow {}, attempt {})",
          id, sent->height, r->model, executor, executor_node, prompt, max_tokens, *escrow, attempt);
      std::optional<ExecutorHopFailure> failure;
      if (executor == d.address) {
        ChatRequest local = *r;
        local.body = body;
        try {
          execute(local, id, executor_node, price, w, "transfer_agent");
          return;
        } catch (const Refusal& refusal) {
          // Every local node full: refused before any work or byte, like a remote executor's 429.
          if (refusal.status != 429 || w.closed()) throw;
          failure = ExecutorHopFailure{"inference " + id + ": this participant's nodes: " + refusal.message,
                                       true, std::to_string(o.retry_after_seconds)};
        }
      } else {
        failure = forward(*r, id, executor, executor_url, forwarded, w);
        if (!failure) return;
      }
      last_failure = failure->why;
      every_executor_busy = every_executor_busy && failure->busy;
      if (failure->busy && !failure->retry_after.empty()) retry_after = failure->retry_after;
      failed.insert(executor);
      count("transfer_agent", "failover");
      spdlog::warn("inference {}: {} before the first byte; {}", id, last_failure,
                   attempt < attempts ? "trying another executor" : "giving up");
      if (w.closed()) return;
    }
    if (exhausted_failover_status(every_executor_busy && !last_failure.empty()) == 429) {
      throw Refusal{429,
                    "all_nodes_busy",
                    "every executor tried (" + std::to_string(attempts) +
                        ") has all its MLNodes at max_concurrent; last: " + last_failure,
                    {{"retry-after", retry_after}}};
    }
    throw Refusal{502, "executor_unreachable", last_failure};
  }

  // The executor's whole answer as it is: status, content type, Retry-After (a 429) and body.
  static void relay_answer(const net::ClientResponse& r, net::ResponseWriter& w) {
    auto ct = r.headers.find("content-type");
    net::Headers extra;
    if (auto ra = r.headers.find("retry-after"); ra != r.headers.end()) extra["retry-after"] = ra->second;
    w.begin(r.status, ct == r.headers.end() ? "application/json" : ct->second, extra);
    w.write(r.body);
  }

  // Relays the executor's answer. Returns why it failed when nothing was sent to the client yet and another
  // executor may be tried (the connection failed, or a 429, 5xx or 3xx came back before the first byte:
  // may_fail_over, may_fail_over_status); nullopt otherwise.
  std::optional<ExecutorHopFailure> forward(const ChatRequest& r, const std::string& id,
                                            const std::string& executor, const std::string& url_base,
                                            const std::string& body, net::ResponseWriter& w) {
    auto headers = sign_forward(d.key, d.address, id, now_ms(), executor, body);
    headers["content-type"] = "application/json";
    std::string url = url_base + "/v1/chat/completions";
    auto call =
        participant_call(call_timeouts(o.executor_hop, r.stream), headers, [&w] { return w.closed(); });
    auto started = std::chrono::steady_clock::now();
    const server::Labels first_byte{{"hop", "executor"}, {"stage", "first_byte"}};
    const server::Labels total{{"hop", "executor"}, {"stage", "total"}};
    // A failed call that sent nothing to the client: another executor when the rule allows it
    // (hop_policy.h), else 504 on a timeout (the executor may be generating) or 502.
    auto failed_call = [&](const net::ClientError& e) -> ExecutorHopFailure {
      count("transfer_agent", "executor_unreachable");
      std::string why = "inference " + id + ": executor " + executor + " at " + url_base + ": " + e.message;
      if (may_fail_over(e)) return ExecutorHopFailure{why, false, ""};
      if (e.timed_out) throw Refusal{504, "executor_timeout", why};
      throw Refusal{502, "executor_unreachable", why};
    };
    // No redirect is followed (a participant URL must not send us elsewhere): a 3xx counts as a failure.
    auto unusable = [&](const net::ClientResponse& resp) -> std::optional<ExecutorHopFailure> {
      if (!may_fail_over_status(resp.status)) return std::nullopt;
      ExecutorHopFailure f;
      f.why = "inference " + id + ": executor " + executor + " answered " + std::to_string(resp.status) +
              (resp.status / 100 == 3 ? " (a redirect; redirects are not followed)" : "") + ": " +
              resp.body.substr(0, 300);
      f.busy = resp.status == 429;
      if (auto ra = resp.headers.find("retry-after"); f.busy && ra != resp.headers.end()) {
        // Relayed to our client if every executor is busy: only a small delay in seconds is kept.
        const std::string& v = ra->second;
        if (!v.empty() && v.size() <= 4 &&
            std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; }))
          f.retry_after = v;
      }
      if (f.busy) count("transfer_agent", "executor_busy");
      return f;
    };
    if (!r.stream) {
      auto res = net::Client::request("POST", url, body, call);
      if (!res.ok()) {
        if (res.error->cancelled) {
          count("transfer_agent", "client_gone");
          return std::nullopt;
        }
        return failed_call(*res.error);
      }
      observe("dapi_inference_upstream_seconds", first_byte, started);
      observe("dapi_inference_upstream_seconds", total, started);
      if (auto why = unusable(*res.response)) return why;
      relay_answer(*res.response, w);
      count("transfer_agent", res.response->status / 100 == 2 ? "ok" : "executor_error");
      return std::nullopt;
    }
    bool begun = false;
    auto res = net::Client::stream("POST", url, body, call, [&](const std::string& data) {
      if (!begun) {
        begun = true;
        observe("dapi_inference_upstream_seconds", first_byte, started);
        if (!w.begin(200, "text/event-stream", {{"cache-control", "no-cache"}})) return false;
      }
      return w.write(data);
    });
    if (!res.ok()) {
      if (res.error->cancelled) {
        spdlog::info("inference {}: the client left mid-stream; the executor's stream is closed", id);
        count("transfer_agent", "client_gone");
        return std::nullopt;
      }
      if (!begun) return failed_call(*res.error);
      spdlog::warn("inference {}: the executor's stream broke: {}", id, res.error->message);
      w.write("data: " + openai_error_body("server_error", "executor_stream_failed", res.error->message) +
              "\n\n");
      count("transfer_agent", "stream_interrupted");
      return std::nullopt;
    }
    observe("dapi_inference_upstream_seconds", total, started);
    if (!begun) {
      if (auto why = unusable(*res.response)) return why;
    }
    if (res.response->status / 100 != 2) {
      relay_answer(*res.response, w);
      count("transfer_agent", "executor_error");
      return std::nullopt;
    }
    if (w.closed()) {
      count("transfer_agent", "client_gone");
      return std::nullopt;
    }
    if (!begun) w.begin(200, "text/event-stream", {{"cache-control", "no-cache"}});
    count("transfer_agent", "ok");
    return std::nullopt;
  }

  // ---------------------------------------------------------------- executor
  // POST /v1/tokenize (the tokenize hop): {"model", "messages"} -> {"count"} from a local MLNode.
  net::Response tokenize(const net::Request& req) {
    std::string err;
    auto h = read_tokenize_headers(req, err);
    if (!h) throw Refusal{401, "invalid_signature", err};
    json j = json::parse(req.body, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j["model"].is_string() || !j["messages"].is_array() ||
        j["messages"].empty()) {
      throw Refusal{400, "invalid_value", "the body must be {\"model\": string, \"messages\": [...]}"};
    }
    auto account = d.chain->account(h->transfer_agent);
    if (!account)
      throw Refusal{401, "invalid_signature", "the transfer agent's account cannot be read from the chain"};
    std::string why =
        verify_tokenize(*h, account->public_key, d.address, req.body, now_ms(), o.max_clock_skew);
    if (!why.empty()) throw Refusal{401, "invalid_signature", why};
    auto n = count_locally(j["model"].get<std::string>(), j["messages"], why);
    if (!n) throw Refusal{503, "tokenizer_unavailable", "cannot count the prompt tokens: " + why};
    return net::json_response(200, json{{"count", *n}}.dump());
  }

  bool remember(const std::string& id) {
    std::lock_guard lock(seen_mu);
    if (!seen.insert(id).second) return false;
    seen_order.push_back(id);
    if (seen_order.size() > kMaxRemembered) {
      seen.erase(seen_order.front());
      seen_order.pop_front();
    }
    return true;
  }

  void executor_role(const net::Request& req, const ForwardHeaders& h, net::ResponseWriter& w) {
    // The transfer agent forwards once MsgStartInference is in a block of ITS chain node; this executor's
    // node (another validator under CometBFT) may commit that block a moment later. A record not found yet is
    // asked again for up to kStartVisibleWaitMs before the forward is refused.
    auto rec = query("/inference/inferences/" + net::percent_encode(h.inference_id));
    for (int64_t waited = 0; !rec && rec.error().code == 404 && waited < kStartVisibleWaitMs; waited += 100) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      rec = query("/inference/inferences/" + net::percent_encode(h.inference_id));
    }
    if (!rec) {
      if (rec.error().code == 404) {
        throw Refusal{403, "not_started", "inference " + h.inference_id + " was not started on chain"};
      }
      throw Refusal{503, "chain_unavailable",
                    "cannot read inference " + h.inference_id + ": " + rec.error().message};
    }
    const json& inf = (*rec)["inference"];
    if (str(inf, "executor") != d.address) {
      throw Refusal{
          403, "not_executor",
          "inference " + h.inference_id + " names executor " + str(inf, "executor") + ", not " + d.address};
    }
    if (str(inf, "transfer_agent") != h.transfer_agent) {
      throw Refusal{401, "invalid_signature",
                    "inference " + h.inference_id + " was started by " + str(inf, "transfer_agent") +
                        ", not " + h.transfer_agent};
    }
    if (str(inf, "status") != "STARTED") {
      throw Refusal{409, "not_running", "inference " + h.inference_id + " is " + str(inf, "status")};
    }
    if (str(inf, "prompt_hash") != common::to_hex(common::sha256(req.body))) {
      throw Refusal{401, "invalid_signature", "the body is not the prompt of inference " + h.inference_id};
    }
    if (!is_canonical_json(req.body)) {
      throw Refusal{400, "invalid_value",
                    "the forwarded body of inference " + h.inference_id +
                        " is not canonical JSON (keys sorted, no whitespace), which validators re-hash"};
    }
    auto account = d.chain->account(h.transfer_agent);
    if (!account) throw Refusal{503, "chain_unavailable", "cannot read the transfer agent's account"};
    std::string why = verify_forward(h, account->public_key, d.address, req.body, now_ms(), o.max_clock_skew);
    if (!why.empty()) throw Refusal{401, "invalid_signature", why};
    RequestError err;
    auto r = parse_chat_request(req.body, err);
    if (!r) throw Refusal{err.status, err.code, err.message};
    if (r->model != str(inf, "model"))
      throw Refusal{400, "invalid_value", "the body's model is not the record's"};
    if (!remember(h.inference_id)) {
      throw Refusal{409, "replay", "inference " + h.inference_id + " was already served by this executor"};
    }
    execute(*r, h.inference_id, str(inf, "executor_node"), u64(inf, "per_token_price"), w, "executor");
  }

  // Eligible local nodes of the model in this epoch (during PoC only POC_SLOT ones), in config order.
  std::vector<std::pair<Candidate, config::NodeConfig>> eligible(const std::string& model) const {
    json epoch = query_or_refuse("/inference/epoch", "the epoch");
    bool poc = epoch.contains("upcoming_epoch_index") && !epoch["upcoming_epoch_index"].is_null();
    json group = model_group(model);
    std::map<std::string, bool> mine;  // node id -> POC_SLOT
    for (const auto& m : group.value("validation_weights", json::array())) {
      if (str(m, "member_address") != d.address) continue;
      for (const auto& n : m.value("ml_nodes", json::array())) {
        auto ts = n.value("timeslot_allocation", json::array());
        mine[str(n, "node_id")] = ts.size() > 1 && ts[1].is_boolean() && ts[1].get<bool>();
      }
    }
    std::vector<std::pair<Candidate, config::NodeConfig>> out;
    std::string not_serving;  // eligible by the chain, but the reconciler does not see them serving now
    for (const auto& n : d.local_nodes()) {
      auto it = mine.find(n.id);
      if (it == mine.end() || !n.models.count(model) || (poc && !it->second)) continue;
      if (d.versions && d.versions->switching(n.id)) {  // draining for an MLNode upgrade: nothing new
        not_serving += (not_serving.empty() ? "" : "; ") + n.id + ": switching to MLNode version " +
                       d.versions->target();
        continue;
      }
      if (d.node_health) {
        std::string why = serving_refusal(d.node_health(n.id), model);
        if (!why.empty()) {
          not_serving += (not_serving.empty() ? "" : "; ") + n.id + ": " + why;
          continue;
        }
      }
      out.push_back({Candidate{n.id, std::max<uint32_t>(1, n.max_concurrent)}, n});
    }
    if (out.empty()) {
      throw Refusal{503, "no_node",
                    "no local MLNode of " + d.address + " serves " + model + " in this epoch" +
                        (poc ? " (PoC: only POC_SLOT nodes serve)" : "") +
                        (not_serving.empty() ? "" : " (not serving now: " + not_serving + ")")};
    }
    return out;
  }

  void finish(const std::string& id, const CompletionRelay& relay) {
    ::inference::inference::MsgFinishInference msg;
    msg.set_creator(d.address);
    msg.set_inference_id(id);
    msg.set_prompt_tokens(relay.usage()->prompt_tokens);
    msg.set_completion_tokens(relay.usage()->completion_tokens);
    msg.set_response_hash(relay.response_hash());
    auto st = d.enqueue("inference_finish/" + id, common::tx::TxMessage{kFinishUrl, msg.SerializeAsString()});
    if (!st) spdlog::error("inference {}: cannot queue MsgFinishInference: {}", id, st.error().message);
    spdlog::info("inference {}: finished ({} prompt + {} completion tokens)", id,
                 relay.usage()->prompt_tokens, relay.usage()->completion_tokens);
  }

  // What the completion costs the requester: {"per_token_price", "amount", "denom"} (decimal strings).
  json cost_of(const Usage& u, uint64_t price) const {
    auto amount = escrow_amount(u.prompt_tokens, u.completion_tokens, price);
    return {{"per_token_price", std::to_string(price)},
            {"amount", amount ? json(std::to_string(*amount)) : json(nullptr)},
            {"denom", o.denom}};
  }

  void execute(const ChatRequest& r, const std::string& id, const std::string& preferred, uint64_t price,
               net::ResponseWriter& w, const std::string& role) {
    auto nodes = eligible(r.model);
    std::vector<Candidate> cands;
    for (const auto& [c, _] : nodes) cands.push_back(c);
    auto lease = pool.acquire(cands, preferred);
    if (!lease) {
      throw Refusal{429,
                    "all_nodes_busy",
                    "every MLNode serving " + r.model + " is at its max_concurrent",
                    {{"retry-after", std::to_string(o.retry_after_seconds)}}};
    }
    const config::NodeConfig* node = nullptr;
    for (const auto& [c, n] : nodes) {
      if (c.node_id == lease->node_id()) node = &n;
    }
    // The node's MLNode version now, counted in flight until this call ends: an MLNode upgrade lets it finish
    // on this version before stopping it (api/upgrade/node_versions.h).
    auto version_use = d.versions ? d.versions->use(node->id) : nullptr;
    const std::string version = version_use ? version_use->version() : chain_mlnode_version();
    std::string url = node_base(*node, node->inference_port) + (version.empty() ? "" : "/" + version) +
                      "/v1/chat/completions";
    json body = r.body;
    // Validation hook (docs/inference-validation.md): the payload is recorded with logprobs turned on.
    auto recording = d.payloads ? d.payloads->begin(id, body) : nullptr;
    if (r.stream) body["stream_options"]["include_usage"] = true;
    CompletionRelay relay(id);
    // The MLNode is the operator's own (config): its bounds, no address policy.
    net::CallOptions call;
    call.timeouts = call_timeouts(o.mlnode_hop, r.stream);
    call.headers = {{"content-type", "application/json"}};
    call.cancelled = [&w] { return w.closed(); };
    auto started = std::chrono::steady_clock::now();
    const server::Labels first_byte{{"hop", "mlnode"}, {"stage", "first_byte"}};
    const server::Labels total{{"hop", "mlnode"}, {"stage", "total"}};
    spdlog::debug("inference {}: running on node {} ({})", id, node->id, url);
    if (!r.stream) {
      auto res = net::Client::request("POST", url, body.dump(), call);
      if (res.ok()) {
        observe("dapi_inference_upstream_seconds", first_byte, started);
        observe("dapi_inference_upstream_seconds", total, started);
      }
      if (!res.ok() && res.error->cancelled) {
        spdlog::info("inference {}: the client left; the MLNode call is closed (expires with refund)", id);
        count(role, "client_gone");
        return;
      }
      if (!res.ok()) {
        count(role, "mlnode_failed");
        throw Refusal{res.error->timed_out ? 504 : 502, "mlnode_failed",
                      "MLNode " + node->id + ": " + res.error->message};
      }
      if (res.response->status / 100 != 2) {
        count(role, "mlnode_error");
        throw Refusal{res.response->status == 400 ? 400 : 502, "mlnode_error",
                      "MLNode " + node->id + " answered " + std::to_string(res.response->status) + ": " +
                          res.response->body.substr(0, 500)};
      }
      json out = json::parse(res.response->body, nullptr, false);
      if (recording) recording->whole(out);
      if (!relay.whole(out)) {
        count(role, "mlnode_failed");
        throw Refusal{502, "mlnode_failed", "MLNode " + node->id + " sent a completion without usage"};
      }
      if (recording) d.payloads->record(*recording, body);
      finish(id, relay);
      out["cost"] = cost_of(*relay.usage(), price);
      w.begin(200, "application/json");
      w.write(out.dump(-1, ' ', false, json::error_handler_t::replace));
      count(role, "ok");
      return;
    }
    net::SseParser parser;
    bool begun = false, done = false, failed = false, client_gone = false;
    std::string failure;
    auto res = net::Client::stream("POST", url, body.dump(), call, [&](const std::string& data) {
      for (auto& ev : parser.feed(data)) {
        if (ev.data == "[DONE]") {
          done = true;
          continue;
        }
        json j = json::parse(ev.data, nullptr, false);
        if (j.is_discarded() || !j.is_object() || j.contains("error")) {
          failed = true;
          failure = j.is_object() && j["error"].is_object() ? str(j["error"], "message") : "malformed chunk";
          return false;
        }
        if (recording) recording->chunk(j);
        relay.chunk(j);
        if (j.contains("usage") && relay.usage()) j["cost"] = cost_of(*relay.usage(), price);
        if (!begun) {
          begun = true;
          observe("dapi_inference_upstream_seconds", first_byte, started);
          if (!w.begin(200, "text/event-stream", {{"cache-control", "no-cache"}})) {
            client_gone = true;
            return false;
          }
        }
        if (!w.write("data: " + j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n\n")) {
          client_gone = true;
          return false;
        }
      }
      return true;
    });
    if (res.ok() && !failed && !client_gone) observe("dapi_inference_upstream_seconds", total, started);
    if (!res.ok()) {
      if (res.error->cancelled)
        client_gone = true;
      else if (!failed) {
        failed = true;
        failure = res.error->message;
      }
    } else if (res.response->status / 100 != 2) {
      failed = true;
      failure = "answered " + std::to_string(res.response->status) + ": " + res.response->body.substr(0, 500);
    }
    if (client_gone) {
      spdlog::info("inference {}: the client left mid-stream; not finished (expires with refund)", id);
      count(role, "client_gone");
      return;
    }
    if (!failed && !(done && relay.usage())) {
      failed = true;
      failure = done ? "the stream had no usage" : "the stream ended without [DONE]";
    }
    if (failed) {
      spdlog::warn("inference {}: MLNode {} failed mid-stream: {}; not finished (expires with refund)", id,
                   node->id, failure);
      count(role, "mlnode_failed");
      if (!begun) throw Refusal{502, "mlnode_failed", "MLNode " + node->id + ": " + failure};
      w.write("data: " +
              openai_error_body("server_error", "mlnode_failed", "MLNode " + node->id + ": " + failure) +
              "\n\n");
      return;
    }
    if (recording) d.payloads->record(*recording, body);
    finish(id, relay);
    if (!begun) w.begin(200, "text/event-stream", {{"cache-control", "no-cache"}});
    w.write("data: [DONE]\n\n");
    count(role, "ok");
  }
};

InferenceService::InferenceService(InferenceDeps deps, InferenceOptions options)
    : impl_(std::make_unique<Impl>(std::move(deps), options)) {}
InferenceService::~InferenceService() = default;

void InferenceService::chat_completions(const net::Request& req, net::ResponseWriter& w) {
  std::string role = "transfer_agent";
  auto received = std::chrono::steady_clock::now();
  struct Timer {  // the request's whole time, however it ends
    Impl& impl;
    const std::string& role;
    std::chrono::steady_clock::time_point since;
    ~Timer() { impl.observe("dapi_inference_request_seconds", {{"role", role}}, since); }
  } timer{*impl_, role, received};
  std::string inference_id;  // known here for the executor role (the transfer agent logs its ids itself)
  try {
    if (req.body.size() > impl_->o.max_body_bytes) {
      throw Refusal{413, "request_too_large",
                    "the request body has " + std::to_string(req.body.size()) + " bytes; at most " +
                        std::to_string(impl_->o.max_body_bytes)};
    }
    std::string herr;
    auto h = read_forward_headers(req, herr);
    if (!herr.empty()) throw Refusal{401, "invalid_signature", herr};
    if (h) {
      role = "executor";
      inference_id = h->inference_id;
      impl_->executor_role(req, *h, w);
    } else {
      impl_->transfer_agent(req, w);
    }
  } catch (const Refusal& r) {
    impl_->count(role, std::to_string(r.status));
    spdlog::info("chat completion ({}{}) refused {}: {}", role,
                 inference_id.empty() ? "" : ", inference " + inference_id, r.status, r.message);
    write_error(w, r.status, r.code, r.message, r.headers);
  } catch (const std::exception& e) {
    impl_->count(role, "500");
    spdlog::error("chat completion ({}): {}", role, e.what());
    write_error(w, 500, "internal_error", e.what());
  }
}

net::Response InferenceService::tokenize(const net::Request& req) {
  try {
    if (req.body.size() > impl_->o.max_body_bytes) {
      throw Refusal{413, "request_too_large", "the request body is above the limit"};
    }
    return impl_->tokenize(req);
  } catch (const Refusal& r) {
    return openai_error(r.status, r.code, r.message);
  }
}

net::Response InferenceService::models(const net::Request&) {
  try {
    json parent = impl_->query_or_refuse("/inference/epoch-groups/current", "the epoch group")["epoch_group"];
    json data = json::array();
    for (const auto& [m, g] : impl_->served_groups()) {
      data.push_back({{"id", m},
                      {"object", "model"},
                      {"created", 0},
                      {"owned_by", "inference-network"},
                      {"epoch_index", parent.value("epoch_index", 0)},
                      {"model_snapshot", g["model_snapshot"]}});
    }
    return net::json_response(200, json{{"object", "list"}, {"data", data}}.dump());
  } catch (const Refusal& r) {
    return openai_error(r.status, r.code, r.message);
  }
}

net::Response InferenceService::pricing(const net::Request&) {
  try {
    json parent = impl_->query_or_refuse("/inference/epoch-groups/current", "the epoch group")["epoch_group"];
    json models = json::array();
    for (const auto& [m, g] : impl_->served_groups()) {
      uint64_t uoc = u64(g["model_snapshot"], "units_of_compute_per_token");
      uint64_t unit = u64(g, "unit_of_compute_price");
      models.push_back({{"id", m},
                        {"units_of_compute_per_token", uoc},
                        {"unit_of_compute_price", unit},
                        {"price_per_token", uoc != 0 && unit > std::numeric_limits<uint64_t>::max() / uoc
                                                ? json(nullptr)
                                                : json(std::to_string(uoc * unit))}});
    }
    return net::json_response(200, json{{"epoch_index", parent.value("epoch_index", 0)},
                                        {"unit_of_compute_price", u64(parent, "unit_of_compute_price")},
                                        {"denom", impl_->o.denom},
                                        {"models", models}}
                                       .dump());
  } catch (const Refusal& r) {
    return openai_error(r.status, r.code, r.message);
  }
}

net::Response InferenceService::epoch_current(const net::Request&) {
  auto e = impl_->query("/inference/epoch");
  if (!e) return openai_error(503, "chain_unavailable", "cannot read the epoch: " + e.error().message);
  json out = {{"epoch_index", (*e)["epoch_index"]},
              {"upcoming_epoch_index", (*e)["upcoming_epoch_index"]},
              {"block_height", (*e)["block_height"]},
              {"phase", (*e)["phase"]},
              {"stages", (*e)["stages"]}};
  return net::json_response(200, out.dump());
}

net::Response InferenceService::participants(const net::Request&) {
  auto p = impl_->query("/inference/participants");
  if (!p) return openai_error(503, "chain_unavailable", "cannot read the participants: " + p.error().message);
  json list = json::array();
  for (auto item : (*p).value("participants", json::array())) {
    auto b = impl_->d.chain->balance(str(item, "address"), impl_->o.denom);
    item["balance"] = b ? json(std::to_string(*b)) : json(nullptr);
    list.push_back(std::move(item));
  }
  auto st = impl_->d.chain->status();
  return net::json_response(200, json{{"participants", list}, {"block_height", st ? st->height : 0}}.dump());
}

net::Response InferenceService::inference_record(const net::Request& req) {
  auto it = req.path_params.find("id");
  std::string id = it == req.path_params.end() ? "" : it->second;
  if (id.empty() || id.size() > 128)
    return openai_error(400, "invalid_value", "the inference id must be 1-128 characters");
  auto rec = impl_->query("/inference/inferences/" + net::percent_encode(id));
  if (!rec) {
    if (rec.error().code == 404)
      return openai_error(404, "not_found", "inference " + id + " is not on chain");
    return openai_error(503, "chain_unavailable", rec.error().message);
  }
  return net::json_response(200, (*rec)["inference"].dump());
}

net::Response InferenceService::governance_models(const net::Request&) {
  auto g = impl_->query("/inference/governance/models");
  if (!g)
    return openai_error(503, "chain_unavailable", "cannot read the governance models: " + g.error().message);
  return net::json_response(200, json{{"models", (*g).value("models", json::array())}}.dump());
}

net::Response InferenceService::governance_pricing(const net::Request&) {
  // The chain prices every registered model at the unit price the next epoch formation uses (seed 3.7).
  auto g = impl_->query("/inference/governance/pricing");
  if (!g)
    return openai_error(503, "chain_unavailable", "cannot read the governance pricing: " + g.error().message);
  json models = json::array();
  for (const auto& m : (*g).value("models", json::array())) {
    models.push_back(
        {{"id", str(m, "id")},
         {"units_of_compute_per_token", u64(m, "units_of_compute_per_token")},
         {"price_per_token", m.contains("price_per_token") ? m["price_per_token"] : json(nullptr)}});
  }
  return net::json_response(200, json{{"unit_of_compute_price", u64(*g, "unit_of_compute_price")},
                                      {"for_epoch_index", u64(*g, "for_epoch_index")},
                                      {"denom", impl_->o.denom},
                                      {"dynamic_pricing_enabled", false},
                                      {"models", models}}
                                     .dump());
}

}  // namespace api::inference
