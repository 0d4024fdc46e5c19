#include "api/dispatch/dispatcher.h"

namespace api::dispatch {

using broker::IntendedState;
using common::epochs::Phase;

EpochFrame frame_from_epoch_info(const chain::EpochInfo& info) {
  if (info.upcoming_epoch_index) return {*info.upcoming_epoch_index, info.stages};
  if (info.epoch_index > 0 && info.stages.poc_start > 0) {
    // The effective epoch's stages: its PoC is behind; until the next PoC starts this frame still describes
    // it.
    return {info.epoch_index, info.stages};
  }
  const uint64_t next = info.stages.next_poc_start;
  return {info.epoch_index + 1, common::epochs::compute_stages(info.params, next)};
}

std::string duty_key(DutyKind kind, uint64_t epoch_index, uint64_t qualifier) {
  std::string key = std::string(to_string(kind)) + "/" + std::to_string(epoch_index);
  if (qualifier != 0) key += "@" + std::to_string(qualifier);
  return key;
}

namespace {

const epoch::EpochNodeData* node_data(const DispatchInput& in, uint64_t epoch, const std::string& node) {
  auto e = in.epoch_data.find(epoch);
  if (e == in.epoch_data.end()) return nullptr;
  auto n = e->second.data.find(node);
  return n == e->second.data.end() ? nullptr : &n->second;
}

// Epoch 0 has no sub-groups: its data is known and empty.
bool data_known(const DispatchInput& in, uint64_t epoch, uint64_t min_read_height = 0) {
  if (epoch == 0) return true;
  auto e = in.epoch_data.find(epoch);
  return e != in.epoch_data.end() && e->second.read_height >= min_read_height;
}

NodeDecision serve_epoch(const poc::LocalNode& node, const DispatchInput& in, uint64_t epoch) {
  if (!data_known(in, epoch))
    return {IntendedState::none(), "epoch " + std::to_string(epoch) + " data not read yet"};
  const epoch::EpochNodeData* d = node_data(in, epoch, node.id);
  if (d == nullptr || !d->in_epoch()) {
    return {IntendedState::stopped(), "not in epoch " + std::to_string(epoch) + "'s snapshot"};
  }
  auto plan = poc::serving_plan(node, *d);
  if (!plan) return {IntendedState::stopped(), "no model in epoch " + std::to_string(epoch)};
  return {IntendedState::inference(plan->model, plan->args),
          "serves epoch " + std::to_string(epoch) + "'s model"};
}

}  // namespace

DispatchOutput dispatch(const DispatchInput& in) {
  const uint64_t n = in.frame.epoch_index;
  const uint64_t prev = n > 0 ? n - 1 : 0;
  const auto& s = in.frame.stages;
  const uint64_t h = in.height;
  const uint64_t p = s.poc_start;
  const bool in_epoch_n_window = h >= p && h < s.set_new_validators;

  DispatchOutput out;
  out.phase = in_epoch_n_window ? common::epochs::phase_at(s, h) : Phase::kInference;
  out.effective_epoch = h >= s.set_new_validators ? n : prev;

  // Duties.
  auto add = [&](DutyKind kind, uint64_t epoch, uint64_t qualifier, uint64_t from, uint64_t to,
                 std::string why) {
    if (h >= from && h <= to)
      out.duties.push_back({kind, epoch, duty_key(kind, epoch, qualifier), from, to, why});
  };
  if (h < s.set_new_validators && prev > 0) {
    if (!data_known(in, prev))
      add(DutyKind::kReadEpochData, prev, 0, 0, s.set_new_validators - 1, "effective epoch");
    if (h >= p && !data_known(in, prev, p)) {
      add(DutyKind::kReadEpochData, prev, p, p, s.set_new_validators - 1, "POC_SLOT flags chosen at P-1");
    }
  }
  if (h >= s.validation_end && !data_known(in, n)) {
    add(DutyKind::kReadEpochData, n, 0, s.validation_end, UINT64_MAX, "next epoch formed");
  }
  if (in_epoch_n_window && !in.poc_block_hash) {
    add(DutyKind::kFetchPocBlockHash, n, 0, p, s.set_new_validators - 1,
        "pow/init needs the hash of block P");
  }
  add(DutyKind::kSubmitSeed, n, 0, p, s.validation_end, "seed of epoch N");
  if (in.poc_block_hash && s.validation_end > s.validation_start) {
    add(DutyKind::kValidatePocBatches, n, 0, s.validation_start, s.validation_end - 1,
        "validate others' batches");
  }

  // Intended states.
  const bool slots_known = data_known(in, prev, p);
  for (const poc::LocalNode& node : in.nodes) {
    NodeDecision d;
    if (!node.enabled) {
      d = {IntendedState::stopped(), "disabled by the operator"};
    } else if (h < p) {
      d = serve_epoch(node, in, prev);
    } else if (h >= s.set_new_validators) {
      d = serve_epoch(node, in, n);
    } else {
      const epoch::EpochNodeData* cur = node_data(in, prev, node.id);
      const bool poc_slot = cur != nullptr && cur->has_poc_slot();
      if (h <= s.validation_end) {
        if (!slots_known) {
          d = {IntendedState::none(), "waiting for epoch " + std::to_string(prev) + "'s POC_SLOT selection"};
        } else if (poc_slot) {
          d = serve_epoch(node, in, prev);
          d.reason = "POC_SLOT: keeps serving through the PoC";
        } else if (!in.poc_block_hash || !in.assignment || in.assignment->poc_start_height != p) {
          d = {IntendedState::none(), "waiting for the hash of block " + std::to_string(p)};
        } else if (auto index = in.assignment->index(node.id); !index) {
          d = {IntendedState::stopped(), "added after the PoC started: joins the next PoC"};
        } else {
          broker::PocInit init{
              *index, in.assignment->node_count, p, *in.poc_block_hash, in.public_key_hex, in.callback_url};
          if (h < s.poc_end) {
            d = {IntendedState::poc_generate(init), "PoC generation"};
          } else {
            d = {IntendedState::poc_validate(init), "PoC validation"};
          }
        }
      } else {
        const epoch::EpochNodeData* next = node_data(in, n, node.id);
        auto load =
            poc::load_models_for_next_epoch(node, slots_known ? cur : nullptr, next, data_known(in, n));
        switch (load.kind) {
          case poc::ModelLoad::kLoad:
          case poc::ModelLoad::kKeepServing:
            d = {IntendedState::inference(load.plan.model, load.plan.args), load.reason};
            break;
          case poc::ModelLoad::kStop:
            d = {IntendedState::stopped(), load.reason};
            break;
          case poc::ModelLoad::kWaitForGroup:
            d = {IntendedState::none(), load.reason};
            break;
        }
      }
    }
    out.nodes[node.id] = std::move(d);
  }
  return out;
}

Dispatcher::Dispatcher(std::string public_key_hex, std::string callback_url)
    : public_key_hex_(std::move(public_key_hex)), callback_url_(std::move(callback_url)) {}

void Dispatcher::set_nodes(std::vector<poc::LocalNode> nodes) {
  std::lock_guard lock(mu_);
  nodes_ = std::move(nodes);
}

std::map<uint64_t, EpochDataEntry> Dispatcher::epoch_data() const {
  std::lock_guard lock(mu_);
  return epoch_data_;
}

std::optional<poc::PocAssignment> Dispatcher::assignment() const {
  std::lock_guard lock(mu_);
  return assignment_;
}

void Dispatcher::restore_assignment(poc::PocAssignment assignment) {
  std::lock_guard lock(mu_);
  assignment_ = std::move(assignment);
}

void Dispatcher::set_epoch_data(uint64_t epoch_index, epoch::EpochData data, uint64_t read_height) {
  std::lock_guard lock(mu_);
  epoch_data_[epoch_index] = EpochDataEntry{std::move(data), read_height};
  tracker_.forget(duty_key(DutyKind::kReadEpochData, epoch_index));
}

void Dispatcher::set_poc_block_hash(uint64_t poc_start_height, uint64_t epoch_index, std::string hash) {
  std::lock_guard lock(mu_);
  poc_block_hash_[poc_start_height] = std::move(hash);
  tracker_.forget(duty_key(DutyKind::kFetchPocBlockHash, epoch_index));
}

DispatchOutput Dispatcher::on_block(uint64_t height, const EpochFrame& frame) {
  std::lock_guard lock(mu_);  // pure computation only: no I/O under it
  const uint64_t p = frame.stages.poc_start;
  if (height >= p && (!assignment_ || assignment_->poc_start_height != p)) {
    std::vector<std::string> ids;
    for (const auto& n : nodes_) ids.push_back(n.id);
    assignment_ = poc::assign_poc_nodes(p, ids);
  }
  // Keep only what N-1 and N need.
  const uint64_t keep_from = frame.epoch_index > 1 ? frame.epoch_index - 1 : 0;
  epoch_data_.erase(epoch_data_.begin(), epoch_data_.lower_bound(keep_from));
  poc_block_hash_.erase(poc_block_hash_.begin(), poc_block_hash_.lower_bound(p));
  tracker_.prune(keep_from);

  DispatchInput in;
  in.height = height;
  in.frame = frame;
  in.nodes = nodes_;
  in.epoch_data = epoch_data_;
  if (auto it = poc_block_hash_.find(p); it != poc_block_hash_.end()) in.poc_block_hash = it->second;
  if (assignment_ && assignment_->poc_start_height == p) in.assignment = assignment_;
  in.public_key_hex = public_key_hex_;
  in.callback_url = callback_url_;
  DispatchOutput out = dispatch(in);
  std::vector<Duty> begun;
  for (Duty& d : out.duties) {
    if (tracker_.try_begin(d.key, d.epoch_index)) begun.push_back(std::move(d));
  }
  out.duties = std::move(begun);
  return out;
}

}  // namespace api::dispatch
