#include "api/app/controller.h"

#include <openssl/rand.h>

#include <algorithm>

#include "api/epoch/epoch_data.h"
#include "api/poc/callbacks.h"
#include "api/poc/messages.h"
#include "api/poc/validation.h"
#include "common/bytes.h"
#include "common/hash.h"
#include "common/log.h"
#include "inference/poc.pb.h"

namespace api::app {

using nlohmann::json;

namespace {

// update_node_with_epoch_data's reads over the chain client.
class ChainGroupReader final : public epoch::EpochGroupReader {
 public:
  explicit ChainGroupReader(const chain::ChainClient& chain) : chain_(chain) {}
  common::Result<chain::EpochGroup> epoch_group(uint64_t epoch_index, const std::string& model_id) override {
    return chain_.epoch_group_at(epoch_index, model_id);
  }

 private:
  const chain::ChainClient& chain_;
};

// poc::PocSink over the durable tx queue: a message is acknowledged only once it is on disk, and a batch id
// (or a validation of one participant in one PoC) is queued at most once, ever.
class QueueSink final : public poc::PocSink {
 public:
  explicit QueueSink(TxQueue& txs) : txs_(txs) {}
  common::Status enqueue_batch(const poc::SubmitPocBatch& b) override {
    auto r = txs_.enqueue("poc_batch/" + b.batch_id, "poc_batch", poc::to_tx_message(b));
    if (!r) return r.error();
    return {};
  }
  common::Status enqueue_validation(const poc::SubmitPocValidation& v) override {
    auto r = txs_.enqueue(
        "poc_validation/" + std::to_string(v.poc_stage_start_block_height) + "/" + v.participant_address,
        "poc_validation", poc::to_tx_message(v));
    if (!r) return r.error();
    return {};
  }

 private:
  TxQueue& txs_;
};

net::Response to_response(const poc::CallbackReply& r) {
  net::Response out;
  out.status = r.status;
  out.body = r.body;
  return out;
}

bool is_persisted_duty(dispatch::DutyKind k) {
  return k == dispatch::DutyKind::kSubmitSeed || k == dispatch::DutyKind::kValidatePocBatches;
}

}  // namespace

dispatch::EpochFrame frame_for_height(const dispatch::EpochFrame& reported,
                                      const common::epochs::EpochParams& params, uint64_t height) {
  dispatch::EpochFrame f = reported;
  const uint64_t length = params.epoch_length;
  while (length > 0 && f.epoch_index > 1 && height < f.stages.poc_start && f.stages.poc_start >= length) {
    f.epoch_index -= 1;
    f.stages = common::epochs::compute_stages(params, f.stages.poc_start - length);
  }
  return f;
}

Controller::Controller(ControllerDeps deps)
    : deps_(std::move(deps)),
      public_key_hex_(poc::poc_public_key_hex(common::secp256k1::public_key(deps_.account_key))),
      hrp_(poc::address_hrp(deps_.address)),
      dispatcher_(public_key_hex_, deps_.callback_url + "/v1/poc-batches") {
  std::map<std::string, uint64_t> done;
  for (const auto& [key, value] : deps_.store->scan(state::keys::duty(""))) {
    done[key.substr(state::keys::duty("").size())] = state::decode_u64(value).value_or(0);
  }
  dispatcher_.tracker().restore(done);
  if (!done.empty())
    spdlog::info("controller: {} one-shot duties already done before the restart", done.size());
  if (auto saved = deps_.store->get(state::keys::poc_assignment())) {
    auto j = json::parse(*saved, nullptr, false);
    if (j.is_object()) {
      poc::PocAssignment a;
      a.poc_start_height = j.value("poc_start_height", uint64_t{0});
      a.node_count = j.value("node_count", int64_t{0});
      const json& index_of = j["index_of"];
      if (index_of.is_object()) {
        for (auto it = index_of.begin(); it != index_of.end(); ++it)
          a.index_of[it.key()] = it.value().get<int64_t>();
      }
      dispatcher_.restore_assignment(a);
      persisted_assignment_ = a;
      spdlog::info("controller: PoC node assignment of the PoC at {} restored ({} nodes)", a.poc_start_height,
                   a.node_count);
    }
  }
}

Controller::~Controller() {
  stop();
}

void Controller::start() {
  broker::ReconcilerOptions o;
  o.plan.recheck_interval = deps_.recheck_interval;
  reconciler_ = std::make_unique<broker::Reconciler>(clock_, o);
  sync_nodes();
}

void Controller::stop() {
  stopping_ = true;
  // The reconciler first: it cancels every MLNode driver, so a validation job inside pow/validate (same
  // drivers) returns at once instead of after its timeout, and the join below is short.
  if (reconciler_) reconciler_->stop();
  if (validation_thread_.joinable()) validation_thread_.join();
}

void Controller::sync_nodes() {
  if (!reconciler_) return;
  std::lock_guard lock(mu_);
  uint64_t generation = deps_.nodes->generation();
  if (generation == nodes_generation_) return;
  nodes_generation_ = generation;
  auto list = deps_.nodes->list();
  std::vector<poc::LocalNode> local;
  std::set<std::string> ids;
  for (const auto& e : list) {
    ids.insert(e.config.id);
    broker::MlnodeEndpoint ep{e.config.host, e.config.inference_port, e.config.poc_port};
    auto it = endpoints_.find(e.config.id);
    if (it == endpoints_.end() || it->second.host != ep.host ||
        it->second.inference_port != ep.inference_port || it->second.poc_port != ep.poc_port) {
      auto driver = std::make_shared<broker::HttpMlnodeDriver>(ep, deps_.versions->version(e.config.id));
      if (it == endpoints_.end()) {
        reconciler_->add_node(e.config.id, driver);
      } else {
        reconciler_->set_driver(e.config.id, driver);
      }
      drivers_[e.config.id] = driver;
      endpoints_[e.config.id] = ep;
    }
    poc::LocalNode n;
    n.id = e.config.id;
    n.enabled = e.enabled;
    n.models = e.config.model_order;
    for (const auto& [model, mc] : e.config.models) n.model_args[model] = mc.args;
    local.push_back(std::move(n));
  }
  for (auto it = endpoints_.begin(); it != endpoints_.end();) {
    if (ids.count(it->first)) {
      ++it;
      continue;
    }
    reconciler_->remove_node(it->first);
    deps_.versions->forget(it->first);
    drivers_.erase(it->first);
    it = endpoints_.erase(it);
  }
  dispatcher_.set_nodes(std::move(local));
}

void Controller::on_block(const chain::Block& block, const chain::EpochInfo& info) {
  sync_nodes();
  auto frame = frame_for_height(dispatch::frame_from_epoch_info(info), info.params, block.height);
  dispatch::DispatchOutput out;
  {
    std::lock_guard lock(mu_);
    out = dispatcher_.on_block(block.height, frame);
    frame_ = frame;
    height_ = block.height;
    params_ = info.params;
    last_ = out;
  }
  std::map<std::string, broker::IntendedState> intended;
  for (const auto& [id, d] : out.nodes) intended[id] = d.intended;
  reconciler_->set_intended_all(intended);
  std::string phase(common::epochs::phase_name(out.phase));
  if (phase != last_phase_) {
    spdlog::info("height {} epoch {}: phase {} (PoC of epoch {} at {})", block.height, out.effective_epoch,
                 phase, frame.epoch_index, frame.stages.poc_start);
    for (const auto& [id, d] : out.nodes) {
      spdlog::info("height {} epoch {}: node {} -> {} {} ({})", block.height, out.effective_epoch, id,
                   broker::to_string(d.intended.intent), d.intended.model, d.reason);
    }
    last_phase_ = phase;
    reconciler_->trigger();
  }
  persist_assignment();
  run_duties(out.duties, block.height, frame);
  update_metrics(out);
}

void Controller::persist_assignment() {
  auto a = dispatcher_.assignment();
  if (!a) return;
  if (persisted_assignment_ && persisted_assignment_->poc_start_height == a->poc_start_height &&
      persisted_assignment_->index_of == a->index_of && persisted_assignment_->node_count == a->node_count) {
    return;
  }
  json j{{"poc_start_height", a->poc_start_height}, {"node_count", a->node_count}, {"index_of", a->index_of}};
  if (auto st = deps_.store->write(state::WriteSet().put(state::keys::poc_assignment(), j.dump())); !st) {
    spdlog::error("cannot persist the PoC node assignment: {}", st.error().message);
    return;
  }
  spdlog::info("PoC at {}: node assignment {} (node_count {})", a->poc_start_height, j["index_of"].dump(),
               a->node_count);
  persisted_assignment_ = a;
}

void Controller::run_duties(const std::vector<dispatch::Duty>& duties, uint64_t height,
                            const dispatch::EpochFrame& frame) {
  for (const auto& d : duties) {
    if (stopping_) return;
    run_duty(d, height, frame);
  }
}

void Controller::run_duty(const dispatch::Duty& d, uint64_t height, const dispatch::EpochFrame& frame) {
  auto done = [&] {
    std::lock_guard lock(mu_);
    dispatcher_.tracker().complete(d.key);
    if (is_persisted_duty(d.kind)) {
      if (auto st = deps_.store->write(
              state::WriteSet().put(state::keys::duty(d.key), state::encode_u64(d.epoch_index)));
          !st) {
        spdlog::error("height {}: cannot record duty {}: {}", height, d.key, st.error().message);
      }
    }
  };
  auto failed = [&](const std::string& why) {
    spdlog::debug("height {}: duty {} not done yet: {}", height, d.key, why);
    std::lock_guard lock(mu_);
    dispatcher_.tracker().fail(d.key);
  };
  switch (d.kind) {
    case dispatch::DutyKind::kReadEpochData: {
      std::vector<std::string> ids;
      for (const auto& e : deps_.nodes->list()) ids.push_back(e.config.id);
      ChainGroupReader reader(*deps_.chain);
      auto data = epoch::read_epoch_data(reader, d.epoch_index, deps_.address, ids);
      if (!data) return failed(data.error().message);
      spdlog::info("height {}: epoch {} data read: {} of our nodes in it", height, d.epoch_index,
                   data->size());
      std::lock_guard lock(mu_);
      dispatcher_.set_epoch_data(d.epoch_index, std::move(*data), height);
      return;
    }
    case dispatch::DutyKind::kFetchPocBlockHash: {
      auto b = deps_.chain->block(frame.stages.poc_start);
      if (!b) return failed(b.error().message);
      std::lock_guard lock(mu_);
      dispatcher_.set_poc_block_hash(frame.stages.poc_start, d.epoch_index, b->hash);
      return;
    }
    case dispatch::DutyKind::kSubmitSeed:
      if (submit_seed(d.epoch_index)) return done();
      return failed("seed not queued");
    case dispatch::DutyKind::kValidatePocBatches:
      return start_validation(d, frame);
  }
}

bool Controller::submit_seed(uint64_t epoch_index) {
  unsigned char raw[8];
  if (RAND_bytes(raw, sizeof raw) != 1) return false;
  std::string seed(reinterpret_cast<char*>(raw), sizeof raw);
  std::string signature = common::secp256k1::sign(deps_.account_key, common::sha256(seed));
  inference::inference::MsgSubmitSeed msg;
  msg.set_creator(deps_.address);
  msg.set_epoch_index(epoch_index);
  msg.set_signature(signature);
  state::WriteSet record;
  record.put(state::keys::seed(epoch_index),
             json{{"seed", common::get_be64(seed)}, {"signature_hex", common::to_hex(signature)}}.dump());
  auto q = deps_.txs->enqueue_with(
      "seed/" + std::to_string(epoch_index), "seed",
      {"/" + inference::inference::MsgSubmitSeed::descriptor()->full_name(), msg.SerializeAsString()},
      record);
  if (!q) {
    spdlog::error("seed of epoch {}: {}", epoch_index, q.error().message);
    return false;
  }
  if (*q == TxQueue::Enqueued::kQueued) spdlog::info("seed of epoch {} queued", epoch_index);
  return true;
}

void Controller::start_validation(const dispatch::Duty& d, const dispatch::EpochFrame& frame) {
  if (validation_running_.exchange(true)) {
    std::lock_guard lock(mu_);
    dispatcher_.tracker().fail(d.key);  // one at a time: due again on the next block
    return;
  }
  if (validation_thread_.joinable()) validation_thread_.join();
  uint64_t effective = 0;
  {
    std::lock_guard lock(mu_);
    effective = last_ ? last_->effective_epoch : 0;
  }
  validation_thread_ = std::thread([this, d, frame, effective] {
    bool ok = false;
    std::string why;
    do {
      // Only members of the current epoch validate (the chain refuses the others).
      auto group = deps_.chain->epoch_group_at(effective);
      if (!group) {
        why = group.error().message;
        break;
      }
      bool member =
          std::any_of(group->validation_weights.begin(), group->validation_weights.end(),
                      [&](const auto& m) { return m.member_address == deps_.address && m.weight > 0; });
      if (!member) {
        spdlog::info("epoch {}: not a member of epoch {} with weight; leaving PoC validation to its members",
                     d.epoch_index, effective);
        ok = true;
        break;
      }
      auto batches = deps_.chain->poc_batches(d.epoch_index);
      if (!batches) {
        why = batches.error().message;
        break;
      }
      auto block = deps_.chain->block(frame.stages.poc_start);
      if (!block) {
        why = block.error().message;
        break;
      }
      poc::ValidationInput in;
      in.batches = *batches;
      // Every participant's batches are validated, ours included (as Gonka does, api-node-facts §3.5): the
      // chain accepts a participant only with verdicts of more than half of the current weight, so with few
      // participants (the genesis validator alone holds epoch 0's weight) leaving ourselves out would make
      // our own acceptance impossible.
      in.own_address = deps_.address;
      in.include_own = true;
      in.poc_start_height = frame.stages.poc_start;
      in.block_hash = block->hash;
      in.sample_size = deps_.validation_sample_size;
      std::set<std::string> others;
      for (const auto& b : in.batches) others.insert(b.participant);
      for (const auto& p : others) {
        auto account = deps_.chain->account(p);
        if (account && !account->public_key.empty()) {
          in.public_keys[p] = poc::poc_public_key_hex(account->public_key);
        }
      }
      auto plan = poc::plan_poc_validation(in);
      for (const auto& s : plan.skipped) spdlog::warn("epoch {}: not validating {}", d.epoch_index, s);
      if (plan.jobs.empty()) {
        ok = true;
        break;
      }
      std::vector<std::pair<std::string, std::shared_ptr<broker::MlnodeDriver>>> validators;
      {
        std::lock_guard lock(mu_);
        if (last_) {
          for (const auto& [id, dec] : last_->nodes) {
            // A node being moved to a new MLNode version is skipped: its old version is about to stop.
            if (dec.intended.intent == broker::Intent::kPocValidate && drivers_.count(id) &&
                !deps_.versions->switching(id)) {
              validators.emplace_back(id, drivers_.at(id));
            }
          }
        }
      }
      if (validators.empty()) {
        why = "none of our nodes is in POC_VALIDATE yet";
        break;
      }
      auto sent = poc::send_validation_jobs(plan.jobs, validators);
      ok = true;
      for (const auto& s : sent) {
        if (!s.ok) {
          ok = false;
          why = s.participant + ": " + s.error;
        }
      }
      spdlog::info("epoch {}: sent {} participant sample(s) to {} validating node(s){}", d.epoch_index,
                   sent.size(), validators.size(), ok ? "" : "; some failed: " + why);
    } while (false);
    {
      std::lock_guard lock(mu_);
      if (ok) {
        dispatcher_.tracker().complete(d.key);
        (void)deps_.store->write(
            state::WriteSet().put(state::keys::duty(d.key), state::encode_u64(d.epoch_index)));
      } else {
        spdlog::warn("epoch {}: PoC validation not done yet: {}", d.epoch_index, why);
        dispatcher_.tracker().fail(d.key);
      }
    }
    validation_running_ = false;
  });
}

void Controller::update_metrics(const dispatch::DispatchOutput& out) {
  auto& m = *deps_.metrics;
  m.gauge_clear("dapi_node_state");
  m.gauge_clear("dapi_node_intended");
  for (const auto& v : reconciler_->nodes()) {
    m.gauge_set("dapi_node_state", "Observed state of each MLNode (1 for the state named by the label)",
                {{"node", v.id}, {"state", v.status}}, 1);
    m.gauge_set("dapi_node_intended", "Intended state of each MLNode (1 for the state named by the label)",
                {{"node", v.id}, {"intent", broker::to_string(v.intended.intent)}}, 1);
    m.gauge_set("dapi_node_failures", "Failed MLNode calls since start, per node", {{"node", v.id}},
                static_cast<double>(v.failures));
  }
  m.gauge_set("dapi_effective_epoch", "Effective epoch as the dispatcher sees it", {},
              static_cast<double>(out.effective_epoch));
}

json Controller::node_state(const std::string& id) const {
  json out = json::object();
  if (!reconciler_) return out;
  auto v = reconciler_->node(id);
  if (!v) return out;
  out["status"] = v->status;  // FAILED, INFERENCE, POC, STOPPED, UNKNOWN
  out["intended"] = {{"intent", broker::to_string(v->intended.intent)},
                     {"model", v->intended.model},
                     {"args", v->intended.args}};
  out["observed"] = {{"service", broker::to_string(v->observed.probe.kind)},
                     {"model", v->observed.probe.model},
                     {"healthy", v->observed.probe.healthy},
                     {"pow", broker::to_string(v->observed.probe.pow)}};
  out["failure_reason"] = v->observed.failure.reason;
  out["mlnode_version"] = deps_.versions->version(id);       // what its URLs use now (ARCHITECTURE §8)
  out["switching_version"] = deps_.versions->switching(id);  // an MLNode upgrade is moving it
  out["consecutive_failures"] = v->observed.failure.consecutive;
  std::lock_guard lock(mu_);
  if (last_) {
    out["effective_epoch"] = last_->effective_epoch;
    auto d = last_->nodes.find(id);
    if (d != last_->nodes.end()) out["reason"] = d->second.reason;
    json epochs = json::object();
    for (const auto& [index, entry] : dispatcher_.epoch_data()) {
      auto n = entry.data.find(id);
      if (n == entry.data.end()) continue;
      json models = json::object();
      for (const auto& [model, snap] : n->second.epoch_models) {
        models[model] = {{"model_args", snap.model_args},
                         {"throughput_per_nonce", snap.throughput_per_nonce}};
      }
      json infos = json::object();
      for (const auto& [model, info] : n->second.epoch_ml_nodes) {
        infos[model] = {{"poc_weight", info.poc_weight},
                        {"throughput", info.throughput},
                        {"timeslot_allocation", info.timeslot_allocation}};
      }
      epochs[std::to_string(index)] = {{"epoch_models", models}, {"epoch_ml_nodes", infos}};
    }
    out["epochs"] = epochs;
  }
  return out;
}

std::vector<std::string> Controller::node_ids() {
  std::lock_guard lock(mu_);
  std::vector<std::string> ids;
  for (const auto& [id, _] : endpoints_) ids.push_back(id);
  return ids;
}

void Controller::hold(const std::string& id, bool on) {
  if (reconciler_) reconciler_->hold(id, on);
}

bool Controller::busy(const std::string& id) {
  if (!reconciler_) return false;
  auto v = reconciler_->node(id);
  return v && v->busy;
}

common::Result<broker::MlnodeEndpoint> Controller::configured_endpoint(const std::string& id) const {
  std::lock_guard lock(mu_);
  auto it = endpoints_.find(id);
  if (it == endpoints_.end()) return common::make_error(1, "node " + id + " is not configured any more");
  return it->second;
}

common::Status Controller::stop_version(const std::string& id, const std::string& version) {
  auto ep = configured_endpoint(id);
  if (!ep) return ep.error();
  // A one-off client on the old version's URLs; abandoned at once when dapi stops.
  mlnode::MlNodeClientOptions o;
  o.timeouts.stop = std::chrono::milliseconds(30000);
  o.cancelled = [this] { return stopping_.load(); };
  broker::HttpMlnodeDriver old(*ep, version, o);
  return old.stop();
}

void Controller::use_version(const std::string& id, const std::string& version) {
  std::lock_guard lock(mu_);
  auto it = endpoints_.find(id);
  if (it == endpoints_.end() || !reconciler_) return;
  auto driver = std::make_shared<broker::HttpMlnodeDriver>(it->second, version);
  reconciler_->set_driver(id, driver);  // the node is re-probed on the new version's URLs
  drivers_[id] = driver;
}

bool Controller::settled(const std::string& id) {
  if (!reconciler_) return true;
  auto v = reconciler_->node(id);
  if (!v) return true;  // removed: nothing to wait for
  if (v->observed.failure.failed()) return false;
  if (v->intended.intent == broker::Intent::kNone)
    return v->observed.probe.kind != broker::ServiceKind::kUnknown;
  return broker::satisfies(v->intended, v->observed);
}

common::Status Controller::probe_version(const std::string& id, const std::string& version) {
  auto ep = configured_endpoint(id);
  if (!ep) return ep.error();
  mlnode::MlNodeClientOptions o;
  o.timeouts.state = std::chrono::milliseconds(2000);
  o.get_attempts = 1;
  o.cancelled = [this] { return stopping_.load(); };
  auto state = mlnode::MlNodeClient("http://" + ep->host + ":" + std::to_string(ep->inference_port),
                                    "http://" + ep->host + ":" + std::to_string(ep->poc_port), version, o)
                   .state();
  if (!state) return common::make_error(1, state.error().message);
  return {};
}

bool Controller::failing(const std::string& id) {
  if (!reconciler_) return false;
  auto v = reconciler_->node(id);
  return v && v->observed.failure.consecutive >= 3;
}

net::Response Controller::on_generated(const std::string& body) {
  poc::GeneratedContext ctx;
  ctx.creator = deps_.address;
  ctx.public_key_hex = public_key_hex_;
  {
    std::lock_guard lock(mu_);
    if (dispatcher_.assignment()) {
      ctx.assignment = *dispatcher_.assignment();
      ctx.height = height_;
      if (params_) {
        ctx.batch_window_end =
            common::epochs::compute_stages(*params_, ctx.assignment.poc_start_height).poc_exchange_end;
      }
    }  // else poc_start_height 0: the body is still checked first, then 409
  }
  QueueSink sink(*deps_.txs);
  auto reply = poc::handle_generated_callback(body, ctx, sink);
  if (reply.status == 410) {
    deps_.metrics->counter_add("dapi_poc_callbacks_refused_total",
                               "MLNode callbacks refused for good (410: their window closed or their PoC is "
                               "over); nothing was queued",
                               {{"kind", "generated"}});
  }
  if (reply.status != 200) {
    spdlog::warn("height {}: PoC at {}: generated callback refused with {}: {}", ctx.height,
                 ctx.assignment.poc_start_height, reply.status, reply.body);
  } else {
    spdlog::debug("PoC at {}: generated batch queued: {}", ctx.assignment.poc_start_height, reply.body);
  }
  return to_response(reply);
}

net::Response Controller::on_validated(const std::string& body) {
  poc::ValidatedContext ctx;
  ctx.creator = deps_.address;
  ctx.hrp = hrp_;
  {
    std::lock_guard lock(mu_);
    if (frame_) {
      ctx.poc_start_height = frame_->stages.poc_start;
      ctx.validation_end = frame_->stages.validation_end;
      ctx.height = height_;
    }  // else 0: the body is still checked first, then 409
  }
  QueueSink sink(*deps_.txs);
  auto reply = poc::handle_validated_callback(body, ctx, sink);
  if (reply.status == 410) {
    deps_.metrics->counter_add("dapi_poc_callbacks_refused_total",
                               "MLNode callbacks refused for good (410: their window closed or their PoC is "
                               "over); nothing was queued",
                               {{"kind", "validated"}});
  }
  if (reply.status != 200) {
    spdlog::warn("height {}: PoC at {}: validated callback refused with {}: {}", ctx.height,
                 ctx.poc_start_height, reply.status, reply.body);
  } else {
    spdlog::info("PoC at {}: validation verdict queued: {}", ctx.poc_start_height, reply.body);
  }
  return to_response(reply);
}

}  // namespace api::app
