// GPU uptime schedule (ARCHITECTURE §7.4-§7.7, seed section 7; docs/schedule.md):
//   - throughput measurement from the inference module's per-block counters and the throughput vectors of
//   each
//     model sub-group (indexed by TimeslotType);
//   - the pre-PoC selection of POC_SLOT nodes in EndBlock of P-1 (weighted draw with the chain RNG,
//   docs/rng.md),
//     recorded in the current epoch's sub-group MLNodeInfo and in a small index read by PoC batches and
//     weights;
//   - real POC_SLOT throughput at the end of PoC validation (just before the next group forms);
//   - preserved weights of POC_SLOT nodes for compute_new_weights;
//   - the executor query /inference/executor?model=ID[&seed=S].
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "chain/app/module.h"
#include "chain/rng/rng.h"
#include "chain/types/address.h"
#include "inference/schedule.pb.h"

namespace chain::x::schedule {

using ScheduleParams = ::inference::inference::ScheduleParams;
using MsgUpdateScheduleParams = ::inference::inference::MsgUpdateScheduleParams;
using PocSlot = ::inference::inference::PocSlot;

inline constexpr std::string_view kMsgUpdateScheduleParamsUrl =
    "/inference.inference.MsgUpdateScheduleParams";
inline constexpr std::string_view kSelectionDomain = "schedule/pre_poc_selection";
inline constexpr std::string_view kExecutorDomain = "schedule/executor";
inline constexpr size_t kPrePocSlot = 0;
inline constexpr size_t kPocSlot = 1;
inline constexpr uint64_t kBps = 10000;

ScheduleParams default_params();
ScheduleParams get_params(const store::KvReader& state);
void set_params(store::KvStore& state, const ScheduleParams& p);
common::Status validate_params(const ScheduleParams& p);

// ---- throughput (seed 7.4)
// Σ (prompt + completion) tokens of inferences of `model_id` finished in blocks [from, to].
uint64_t measure_model_throughput_for_blocks(const store::KvReader& state, std::string_view model_id,
                                             uint64_t from, uint64_t to);
// Writes one entry of the sub-group's expected/real vector (grown to 2 entries with zeros). False if no
// sub-group.
bool set_expected_throughput(store::KvStore& state, uint64_t epoch, std::string_view model_id, size_t slot,
                             uint64_t value);
bool set_real_throughput(store::KvStore& state, uint64_t epoch, std::string_view model_id, size_t slot,
                         uint64_t value);
// min(1, real / expected) in basis points; 10000 when nothing was expected.
uint64_t validate_throughput_performance(uint64_t expected, uint64_t real);

// ---- pre-PoC selection (pure; §7.5)
struct SelectionNode {
  std::string node_id;
  uint64_t throughput = 0;
  uint64_t poc_weight = 0;
  bool pre_poc_slot = false;
  bool pending_change = false;  // hardware registry differs from the snapshot
};
struct SelectionParticipant {
  types::Address address;
  uint64_t weight = 0;               // total participant weight (parent group)
  std::vector<SelectionNode> nodes;  // the order the participant added them (HardwareNode.added_seq)
};
struct SelectionModel {
  std::string model_id;
  uint64_t total_throughput = 0;
  uint64_t expected = 0;                           // measured demand
  std::vector<SelectionParticipant> participants;  // sorted by address
};
struct Selected {
  std::string model_id;
  types::Address participant;
  std::string node_id;
  uint64_t throughput = 0;
  uint64_t poc_weight = 0;
  uint64_t draw = 0;
};
struct ModelOutcome {
  std::string model_id;
  uint64_t expected = 0, cap = 0, target = 0, selected_throughput = 0, selected_nodes = 0;
};
struct SelectionResult {
  std::vector<Selected> selected;
  std::vector<ModelOutcome> models;
};
// ARCHITECTURE §7.5: models in the given (sorted) order; a node is selected at most once over all models.
// target = min(expected, cap), cap = total_throughput × cap_bps / 10000; picks continue while the selected
// throughput is below the target, so the first pick is always allowed (a lone node can be selected) and the
// total exceeds the target by less than the last node's throughput.
SelectionResult select_poc_slots(const std::vector<SelectionModel>& models, rng::Stream& rng,
                                 uint64_t cap_bps);

// ---- POC_SLOT index
std::optional<PocSlot> get_poc_slot(const store::KvReader& state, uint64_t epoch,
                                    const types::Address& participant, std::string_view node_id);
// The POC_SLOT nodes of `epoch` sorted by (participant, node id), poc_weight scaled by real/expected
// throughput when the governance param says so: the weight they carry into epoch + 1.
std::vector<PocSlot> preserved_nodes(const store::KvReader& state, uint64_t epoch);

// Runs the selection for the epoch whose PoC starts at ctx.height() + 1 (called by end_block at P-1).
SelectionResult run_pre_poc_selection(app::Context& ctx);

class ScheduleModule final : public app::Module {
 public:
  std::string_view name() const override { return "schedule"; }
  common::Status init_genesis(app::Context& ctx, const nlohmann::json& app_state) override;
  nlohmann::json default_genesis(std::string_view preset) const override;
  void register_messages(app::MsgRouter& router) override;
  void register_queries(app::QueryRouter& router) override;
  // P-1: selection; end of PoC validation: real POC_SLOT throughput (runs before the epochs module forms the
  // group).
  void end_block(app::Context& ctx, std::vector<app::ValidatorUpdate>& validator_updates) override;
};

}  // namespace chain::x::schedule
