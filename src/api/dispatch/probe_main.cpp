// dapi_broker_probe: drives real MLNodes through one epoch with dapi's broker and PoC libraries only (no
// chain): INFERENCE -> POC_GENERATE -> POC_VALIDATE (+ validation of the generated batches as another
// participant) -> INFERENCE with the next epoch's model. Callbacks are received on a local server and turned
// into messages as dapi does. Prints one JSON summary on stdout; exit 1 if a phase was not reached in time.
// Usage: dapi_broker_probe VERSION ID=HOST:INFERENCE_PORT:POC_PORT...
// (tests/functional/dapi_broker_mlnode.py)
#include <chrono>
#include <iostream>
#include <mutex>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "api/broker/http_mlnode_driver.h"
#include "api/broker/reconciler.h"
#include "api/epoch/model_args.h"
#include "api/poc/callbacks.h"
#include "api/poc/node_index.h"
#include "api/poc/validation.h"
#include "common/bech32.h"
#include "common/hash.h"
#include "common/secp256k1.h"
#include "net/http.h"

namespace {

using namespace api;
using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr uint64_t kPocStart = 120;
const char* const kBlockHash = "8F2A6C1D0E9B47A3C5D1E2F30415263748596A7B8C9D0E1F2A3B4C5D6E7F8091";

class RecordingSink : public poc::PocSink {
 public:
  common::Status enqueue_batch(const poc::SubmitPocBatch& b) override {
    std::lock_guard lock(mu);
    if (ids.insert(b.batch_id).second) batches.push_back(b);
    return {};
  }
  common::Status enqueue_validation(const poc::SubmitPocValidation& v) override {
    std::lock_guard lock(mu);
    validations.push_back(v);
    return {};
  }
  std::mutex mu;
  std::set<std::string> ids;
  std::vector<poc::SubmitPocBatch> batches;
  std::vector<poc::SubmitPocValidation> validations;
};

template <class F>
bool wait_for(F condition, seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(milliseconds(50));
  }
  return condition();
}

json views(const broker::Reconciler& rec) {
  json out = json::array();
  for (const auto& v : rec.nodes()) {
    out.push_back({{"id", v.id},
                   {"intended", broker::to_string(v.intended.intent)},
                   {"status", v.status},
                   {"model", v.observed.probe.model},
                   {"pow", broker::to_string(v.observed.probe.pow)},
                   {"failure", v.observed.failure.reason},
                   {"stale", v.stale_results_dropped},
                   {"actions", v.actions}});
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: dapi_broker_probe VERSION ID=HOST:INFERENCE_PORT:POC_PORT...\n";
    return 2;
  }
  const std::string version = argv[1];
  std::vector<std::pair<std::string, broker::MlnodeEndpoint>> nodes;
  for (int i = 2; i < argc; ++i) {
    std::string spec = argv[i];
    auto eq = spec.find('=');
    auto c2 = spec.rfind(':');
    auto c1 = spec.rfind(':', c2 - 1);
    if (eq == std::string::npos || c1 == std::string::npos || c2 == std::string::npos || c1 <= eq) {
      std::cerr << "bad node spec \"" << spec << "\": want ID=HOST:INFERENCE_PORT:POC_PORT\n";
      return 2;
    }
    broker::MlnodeEndpoint ep{spec.substr(eq + 1, c1 - eq - 1),
                              static_cast<uint16_t>(std::stoi(spec.substr(c1 + 1, c2 - c1 - 1))),
                              static_cast<uint16_t>(std::stoi(spec.substr(c2 + 1)))};
    nodes.emplace_back(spec.substr(0, eq), ep);
  }

  // Participant A mines; participant B validates A's batches.
  const std::string key_a =
      common::secp256k1::public_key(*common::secp256k1::private_key_from_bytes(std::string(32, '\x11')));
  const std::string pk_a = poc::poc_public_key_hex(key_a);
  const std::string address_a = common::bech32::encode("gonka", common::ripemd160(common::sha256(key_a)));
  const std::string address_b = "gonka1validator";

  std::vector<std::string> ids;
  for (const auto& [id, ep] : nodes) ids.push_back(id);
  const poc::PocAssignment assignment = poc::assign_poc_nodes(kPocStart, ids);

  RecordingSink sink;
  net::Router router;
  router.add("POST", "/v1/poc-batches/generated", [&](const net::Request& req) {
    auto r = poc::handle_generated_callback(req.body, {address_a, pk_a, assignment}, sink);
    return net::Response{r.status, "application/json", r.body, {}};
  });
  router.add("POST", "/v1/poc-batches/validated", [&](const net::Request& req) {
    auto r = poc::handle_validated_callback(req.body, {address_b, "gonka", kPocStart}, sink);
    return net::Response{r.status, "application/json", r.body, {}};
  });
  net::Server callbacks(std::move(router), net::ServerOptions{});
  callbacks.start();
  const std::string callback_url = "http://127.0.0.1:" + std::to_string(callbacks.port()) + "/v1/poc-batches";

  broker::SteadyClock clock;
  broker::ReconcilerOptions options;
  options.plan.act_max_age = seconds(1);
  options.plan.recheck_interval = seconds(1);
  options.backoff = {milliseconds(200), seconds(2)};
  options.worker_poll = milliseconds(50);
  broker::Reconciler rec(clock, options);
  std::map<std::string, std::shared_ptr<broker::HttpMlnodeDriver>> drivers;
  for (const auto& [id, ep] : nodes) {
    drivers[id] = std::make_shared<broker::HttpMlnodeDriver>(ep, version);
    rec.add_node(id, drivers[id]);
  }

  json summary;
  summary["phases"] = json::array();
  auto phase = [&](const std::string& name, auto intent_of, auto reached) {
    std::map<std::string, broker::IntendedState> intents;
    for (const auto& id : ids) intents[id] = intent_of(id);
    rec.set_intended_all(intents);
    rec.trigger();
    bool ok = wait_for(
        [&] {
          for (const auto& v : rec.nodes()) {
            if (!reached(v)) return false;
          }
          return true;
        },
        seconds(60));
    summary["phases"].push_back({{"phase", name}, {"reached", ok}, {"nodes", views(rec)}});
    return ok;
  };
  auto satisfied = [](const broker::NodeView& v) {
    return broker::satisfies(v.intended, v.observed) && !v.busy;
  };

  const auto args1 =
      epoch::merge_model_args({"--dtype", "half"}, {"--max-model-len", "4096", "--dtype", "float"});
  bool ok = phase(
      "INFERENCE", [&](const std::string&) { return broker::IntendedState::inference("model-a", args1); },
      satisfied);
  auto init = [&](const std::string& id) {
    return broker::PocInit{*assignment.index(id), assignment.node_count, kPocStart, kBlockHash, pk_a,
                           callback_url};
  };
  ok = ok &&
       phase(
           "POC_GENERATE",
           [&](const std::string& id) { return broker::IntendedState::poc_generate(init(id)); }, satisfied);
  ok = ok && wait_for(
                 [&] {
                   std::lock_guard lock(sink.mu);
                   std::set<std::string> with_batches;
                   for (const auto& b : sink.batches) with_batches.insert(b.node_id);
                   return with_batches.size() == ids.size();
                 },
                 seconds(60));
  ok = ok &&
       phase(
           "POC_VALIDATE",
           [&](const std::string& id) { return broker::IntendedState::poc_validate(init(id)); }, satisfied);

  // B validates A's batches through the validating nodes.
  poc::ValidationInput vin;
  {
    std::lock_guard lock(sink.mu);
    for (const auto& b : sink.batches) {
      vin.batches.push_back(
          {address_a, b.node_id, b.batch_id, b.nonces, b.dist, 2, kPocStart, kPocStart + 1});
    }
  }
  vin.own_address = address_b;
  vin.public_keys = {{address_a, pk_a}};
  vin.poc_start_height = kPocStart;
  vin.block_hash = kBlockHash;
  vin.sample_size = 50;
  poc::ValidationPlan plan = poc::plan_poc_validation(vin);
  std::vector<std::pair<std::string, std::shared_ptr<broker::MlnodeDriver>>> validators;
  for (const auto& [id, d] : drivers) validators.emplace_back(id, d);
  json sent = json::array();
  for (const auto& s : poc::send_validation_jobs(plan.jobs, validators)) {
    sent.push_back({{"participant", s.participant}, {"node", s.node_id}, {"ok", s.ok}, {"error", s.error}});
  }
  summary["validation_jobs"] = sent;
  ok = ok && !plan.jobs.empty() &&
       wait_for(
           [&] {
             std::lock_guard lock(sink.mu);
             return !sink.validations.empty();
           },
           seconds(60));

  ok = ok &&
       phase(
           "INFERENCE_NEXT_EPOCH",
           [&](const std::string&) { return broker::IntendedState::inference("model-b", {}); }, satisfied);
  rec.stop();
  callbacks.stop();

  std::lock_guard lock(sink.mu);
  json batches = json::array();
  std::map<std::string, std::set<uint64_t>> by_node;
  bool overlap = false;
  bool in_range = true;
  for (const auto& b : sink.batches) {
    batches.push_back({{"node_id", b.node_id},
                       {"batch_id", b.batch_id},
                       {"nonces", b.nonces.size()},
                       {"creator", b.creator},
                       {"poc_start", b.poc_stage_start_block_height}});
    for (uint64_t n : b.nonces) {
      for (const auto& [other, set] : by_node) {
        if (other != b.node_id && set.count(n)) overlap = true;
      }
      by_node[b.node_id].insert(n);
      if (static_cast<int64_t>(n % static_cast<uint64_t>(assignment.node_count)) !=
          *assignment.index(b.node_id)) {
        in_range = false;
      }
    }
  }
  json validations = json::array();
  for (const auto& v : sink.validations) {
    validations.push_back({{"participant", v.participant_address},
                           {"creator", v.creator},
                           {"fraud_detected", v.fraud_detected},
                           {"n_invalid", v.n_invalid},
                           {"sample_size", v.sample_size}});
  }
  summary["ok"] = ok;
  summary["batches"] = batches;
  summary["nonce_overlap_between_nodes"] = overlap;
  summary["nonces_in_node_ranges"] = in_range;
  summary["validations"] = validations;
  summary["participant_a"] = address_a;
  summary["merged_args"] = args1;
  std::cout << summary.dump() << std::endl;
  return ok ? 0 : 1;
}
