#include "chain/x/poc/poc.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "chain/types/codes.h"
#include "chain/x/epochs/epochs.h"
#include "chain/x/gov/gov.h"
#include "chain/x/groups/groups.h"
#include "chain/x/models/models.h"
#include "chain/x/nodes/nodes.h"
#include "chain/x/record.h"
#include "chain/x/schedule/schedule.h"
#include "chain/x/weights/weights.h"
#include "common/bytes.h"
#include "common/events.h"

namespace chain::x::poc {

namespace keys {
constexpr std::string_view kBatchPrefix = "poc/batch/";
constexpr std::string_view kValidationPrefix = "poc/val/";
constexpr std::string_view kSeedPrefix = "poc/seed/";
std::string batch_epoch(uint64_t epoch) {
  return std::string(kBatchPrefix) + common::be64(epoch);
}
std::string batch_participant(uint64_t epoch, const types::Address& a) {
  return batch_epoch(epoch) + a;
}
// Local ids never contain NUL, so NUL ends the node id and sorts a node's batches together.
std::string batch_node(uint64_t epoch, const types::Address& a, std::string_view node_id) {
  return batch_participant(epoch, a) + std::string(node_id) + std::string(1, '\0');
}
std::string batch(uint64_t epoch, const types::Address& a, std::string_view node_id,
                  std::string_view batch_id) {
  return batch_node(epoch, a, node_id) + std::string(batch_id);
}
std::string validation_epoch(uint64_t epoch) {
  return std::string(kValidationPrefix) + common::be64(epoch);
}
std::string validation(uint64_t epoch, const types::Address& participant, const types::Address& validator) {
  return validation_epoch(epoch) + participant + validator;
}
std::string seed(uint64_t epoch, const types::Address& participant) {
  return std::string(kSeedPrefix) + common::be64(epoch) + participant;
}
// Per (epoch, participant, node): be64(batches) || be64(nonces) submitted, for the spam limits.
constexpr std::string_view kNodeCountPrefix = "poc/count/";
std::string node_count(uint64_t epoch, const types::Address& a, std::string_view node_id) {
  return std::string(kNodeCountPrefix) + common::be64(epoch) + a + std::string(node_id);
}
// The lowest epoch whose PoC data may still be in state (be64); pruning moves it up.
constexpr std::string_view kPruneFloor = "poc/prune_floor";
// Every per-epoch collection, each keyed <prefix><be64 epoch>...
constexpr std::string_view kEpochPrefixes[] = {kBatchPrefix, kValidationPrefix, kSeedPrefix,
                                               kNodeCountPrefix};
}  // namespace keys

namespace {

bool valid_id_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == '-';
}

common::Status validate_id(std::string_view what, std::string_view id) {
  if (id.empty() || id.size() > kMaxBatchIdLength) {
    return invalid(std::string(what) + " \"" + std::string(id) + "\" must be 1-" +
                   std::to_string(kMaxBatchIdLength) + " characters");
  }
  for (char c : id) {
    if (!valid_id_char(c)) {
      return invalid(std::string(what) + " \"" + std::string(id) +
                     "\" may only contain letters, digits, '.', '_', '-'");
    }
  }
  return {};
}

// Finite and non-negative, checked on the IEEE-754 bits (no floating-point arithmetic on chain).
bool is_finite_non_negative(double d) {  // determinism-ok: bit tests only, no float arithmetic
  uint64_t bits;
  std::memcpy(&bits, &d, sizeof bits);
  if (bits >> 63) return bits == (uint64_t(1) << 63);  // -0.0 is fine, any other negative is not
  return ((bits >> 52) & 0x7ff) != 0x7ff;
}

common::Status check_creator(const std::string& creator, const types::Address& signer,
                             const std::string& hrp) {
  auto parsed = types::parse_address(hrp, creator);
  if (!parsed) return common::make_error(parsed.error().code, "creator: " + parsed.error().message);
  if (*parsed != signer) {
    return common::make_error(codes::kUnauthorized,
                              "creator " + creator + " is not the signer " + types::to_bech32(hrp, signer));
  }
  return {};
}

// The upcoming epoch and its stages, or an error saying when the next PoC starts.
struct Upcoming {
  epochs::Epoch epoch;
  common::epochs::EpochStages stages;
};
common::Result<Upcoming> upcoming_or_error(const store::KvReader& state, std::string_view what) {
  auto u = epochs::upcoming_epoch(state);
  if (!u) {
    auto e = epochs::get_epoch(state, epochs::effective_epoch_index(state));
    uint64_t next = e ? epochs::next_poc_start(*e) : 0;
    return reject(codes::kPocNotInProgress,
                  std::string(what) + " rejected: no PoC is in progress; the next PoC starts at height " +
                      std::to_string(next));
  }
  return Upcoming{*u, epochs::stages_of(*u)};
}

common::Status check_start_height(uint64_t given, const epochs::Epoch& u) {
  if (given != 0 && given != u.poc_start_height()) {
    return reject(codes::kPocStartMismatch, "poc_stage_start_block_height " + std::to_string(given) +
                                                " is not the PoC start of epoch " +
                                                std::to_string(u.index()) + " (" +
                                                std::to_string(u.poc_start_height()) + ")");
  }
  return {};
}

common::Status check_batch(const MsgSubmitPocBatch& msg, const types::Address& signer,
                           const std::string& hrp) {
  TRY_STATUS(check_creator(msg.creator(), signer, hrp));
  TRY_STATUS(validate_id("node_id", msg.node_id()));
  TRY_STATUS(validate_id("batch_id", msg.batch_id()));
  if (msg.nonces_size() == 0) return invalid("a PoC batch needs at least one nonce");
  if (static_cast<size_t>(msg.nonces_size()) > kMaxNoncesPerBatch) {
    return invalid("a PoC batch holds at most " + std::to_string(kMaxNoncesPerBatch) + " nonces, got " +
                   std::to_string(msg.nonces_size()));
  }
  if (msg.dist_size() != msg.nonces_size()) {
    return invalid("dist has " + std::to_string(msg.dist_size()) + " entries but nonces has " +
                   std::to_string(msg.nonces_size()) + ": one distance per nonce");
  }
  for (int i = 0; i < msg.dist_size(); ++i) {
    if (!is_finite_non_negative(msg.dist(i))) {
      return invalid("dist[" + std::to_string(i) + "] must be finite and non-negative");
    }
  }
  return {};
}

common::Status submit_batch(app::Context& ctx, const MsgSubmitPocBatch& msg, const types::Address& signer) {
  const auto& st = ctx.reader();
  if (!nodes::get_participant(st, signer)) {
    return common::make_error(codes::kUnauthorized, "PoC batch rejected: " + msg.creator() +
                                                        " is not a registered participant; submit "
                                                        "MsgSubmitNewParticipant and a hardware diff first");
  }
  if (!nodes::get_hardware_node(st, signer, msg.node_id())) {
    return common::make_error(codes::kUnauthorized, "PoC batch rejected: participant " + msg.creator() +
                                                        " has no node \"" + msg.node_id() +
                                                        "\"; a batch must come from one of the sender's own "
                                                        "MLNodes (declare it with MsgSubmitHardwareDiff)");
  }
  auto up = upcoming_or_error(st, "PoC batch");
  if (!up) return up.error();
  TRY_STATUS(check_start_height(msg.poc_stage_start_block_height(), up->epoch));
  if (auto slot = schedule::get_poc_slot(st, up->epoch.index() - 1, signer, msg.node_id())) {
    return reject(codes::kPocNodeHasSlot,
                  "PoC batch rejected: node \"" + msg.node_id() + "\" has POC_SLOT for \"" +
                      slot->model_id() + "\" in epoch " + std::to_string(up->epoch.index() - 1) +
                      ": it serves inference during this PoC, mines nothing and keeps its poc_weight " +
                      std::to_string(slot->poc_weight()));
  }
  if (!common::epochs::in_poc_batch_window(up->stages, ctx.height())) {
    return reject(codes::kPocBatchWindowClosed,
                  "PoC batch rejected at height " + std::to_string(ctx.height()) +
                      ": the batch window of epoch " + std::to_string(up->epoch.index()) + " is [" +
                      std::to_string(up->stages.poc_start + 1) + ", " +
                      std::to_string(up->stages.poc_exchange_end) + "]");
  }
  uint64_t epoch = up->epoch.index();
  std::string key = keys::batch(epoch, signer, msg.node_id(), msg.batch_id());
  if (ctx.store().has(key)) {
    return reject(codes::kPocBatchAlreadySubmitted, "PoC batch \"" + msg.batch_id() + "\" of node \"" +
                                                        msg.node_id() + "\" was already submitted in epoch " +
                                                        std::to_string(epoch) + "; use a new batch_id");
  }
  // Spam limits of the epoch's params snapshot (issue 13): per batch, and per node and epoch.
  const auto limits = epochs::state_limits(up->epoch.params());
  const auto nonces = static_cast<uint64_t>(msg.nonces_size());
  if (nonces > limits.max_nonces_per_batch) {
    return reject(codes::kPocBatchTooManyNonces,
                  "PoC batch rejected: " + std::to_string(nonces) + " nonces; epoch " +
                      std::to_string(epoch) + " accepts at most max_nonces_per_batch = " +
                      std::to_string(limits.max_nonces_per_batch) + " per batch");
  }
  const std::string count_key = keys::node_count(epoch, signer, msg.node_id());
  uint64_t batches_before = 0, nonces_before = 0;
  if (auto raw = st.get(count_key)) {
    if (raw->size() != 16) throw std::logic_error("corrupt PoC node count record in state");
    batches_before = common::get_be64(std::string_view(*raw).substr(0, 8));
    nonces_before = common::get_be64(std::string_view(*raw).substr(8, 8));
  }
  if (batches_before >= limits.max_batches_per_node) {
    return reject(codes::kPocNodeBatchLimit,
                  "PoC batch rejected: node \"" + msg.node_id() + "\" already submitted " +
                      std::to_string(batches_before) + " batches in epoch " + std::to_string(epoch) +
                      "; max_batches_per_node = " + std::to_string(limits.max_batches_per_node));
  }
  if (nonces > limits.max_nonces_per_node || nonces_before > limits.max_nonces_per_node - nonces) {
    return reject(codes::kPocNodeNonceLimit,
                  "PoC batch rejected: node \"" + msg.node_id() + "\" would submit " +
                      std::to_string(nonces_before + nonces) + " nonces in epoch " + std::to_string(epoch) +
                      "; max_nonces_per_node = " + std::to_string(limits.max_nonces_per_node));
  }
  ctx.store().set(count_key, common::be64(batches_before + 1) + common::be64(nonces_before + nonces));
  PoCBatch b;
  b.set_participant(signer);
  b.set_node_id(msg.node_id());
  b.set_batch_id(msg.batch_id());
  *b.mutable_nonces() = msg.nonces();
  *b.mutable_dist() = msg.dist();
  b.set_epoch_index(epoch);
  b.set_poc_start_height(up->epoch.poc_start_height());
  b.set_received_at_height(ctx.height());
  ctx.store().set(key, b.SerializeAsString());
  ctx.emit(types::Event{common::events::kPocBatch,
                        {{"participant", msg.creator()},
                         {"node_id", msg.node_id()},
                         {"batch_id", msg.batch_id()},
                         {"epoch_index", std::to_string(epoch)},
                         {"nonces", std::to_string(msg.nonces_size())}}});
  return {};
}

common::Status check_validation(const MsgSubmitPocValidation& msg, const types::Address& signer,
                                const std::string& hrp) {
  TRY_STATUS(check_creator(msg.creator(), signer, hrp));
  auto p = types::parse_address(hrp, msg.participant_address());
  if (!p) return common::make_error(p.error().code, "participant_address: " + p.error().message);
  if (msg.n_invalid() > msg.sample_size() && msg.sample_size() != 0) {
    return invalid("n_invalid (" + std::to_string(msg.n_invalid()) + ") exceeds sample_size (" +
                   std::to_string(msg.sample_size()) + ")");
  }
  return {};
}

common::Status submit_validation(app::Context& ctx, const MsgSubmitPocValidation& msg,
                                 const types::Address& signer) {
  const auto& st = ctx.reader();
  auto up = upcoming_or_error(st, "PoC validation");
  if (!up) return up.error();
  uint64_t current = epochs::effective_epoch_index(st);
  if (groups::member_weight(st, current, signer) == 0) {
    return common::make_error(codes::kUnauthorized, "PoC validation rejected: " + msg.creator() +
                                                        " is not a member of the current epoch " +
                                                        std::to_string(current) +
                                                        "; only members with weight validate PoC");
  }
  TRY_STATUS(check_start_height(msg.poc_stage_start_block_height(), up->epoch));
  if (!common::epochs::in_validation_window(up->stages, ctx.height())) {
    return reject(codes::kPocValidationWindowClosed,
                  "PoC validation rejected at height " + std::to_string(ctx.height()) +
                      ": the validation window of epoch " + std::to_string(up->epoch.index()) + " is [" +
                      std::to_string(up->stages.validation_start + 1) + ", " +
                      std::to_string(up->stages.validation_end) + "]");
  }
  auto participant = *types::parse_address(ctx.hrp(), msg.participant_address());
  uint64_t epoch = up->epoch.index();
  bool has_batches = false;
  st.scan_prefix(keys::batch_participant(epoch, participant), [&](std::string_view, std::string_view) {
    has_batches = true;
    return false;
  });
  if (!has_batches) {
    return reject(codes::kPocNoBatches, "PoC validation rejected: " + msg.participant_address() +
                                            " submitted no PoC batch in epoch " + std::to_string(epoch));
  }
  PoCValidation v;
  v.set_participant(participant);
  v.set_validator(signer);
  v.set_epoch_index(epoch);
  v.set_fraud_detected(msg.fraud_detected());
  v.set_n_invalid(msg.n_invalid());
  v.set_sample_size(msg.sample_size());
  v.set_validated_at_height(ctx.height());
  ctx.store().set(keys::validation(epoch, participant, signer), v.SerializeAsString());
  ctx.emit(types::Event{common::events::kPocValidation,
                        {{"validator", msg.creator()},
                         {"participant", msg.participant_address()},
                         {"epoch_index", std::to_string(epoch)},
                         {"fraud_detected", msg.fraud_detected() ? "true" : "false"}}});
  return {};
}

common::Status check_seed(const MsgSubmitSeed& msg, const types::Address& signer, const std::string& hrp) {
  TRY_STATUS(check_creator(msg.creator(), signer, hrp));
  if (msg.signature().empty() || msg.signature().size() > kMaxSeedSignatureLength) {
    return invalid("seed signature must be 1-" + std::to_string(kMaxSeedSignatureLength) + " bytes");
  }
  return {};
}

common::Status submit_seed(app::Context& ctx, const MsgSubmitSeed& msg, const types::Address& signer) {
  const auto& st = ctx.reader();
  if (!nodes::get_participant(st, signer)) {
    return common::make_error(codes::kUnauthorized,
                              "seed rejected: " + msg.creator() + " is not a registered participant");
  }
  auto up = upcoming_or_error(st, "seed");
  if (!up) return up.error();
  if (msg.epoch_index() != up->epoch.index()) {
    return reject(codes::kSeedWrongEpoch, "seed rejected: seeds are accepted only for the upcoming epoch " +
                                              std::to_string(up->epoch.index()) + ", not " +
                                              std::to_string(msg.epoch_index()));
  }
  if (ctx.height() < up->stages.poc_start || ctx.height() > up->stages.validation_end) {
    return reject(codes::kSeedWindowClosed, "seed rejected at height " + std::to_string(ctx.height()) +
                                                ": seeds of epoch " + std::to_string(up->epoch.index()) +
                                                " are accepted in [" + std::to_string(up->stages.poc_start) +
                                                ", " + std::to_string(up->stages.validation_end) + "]");
  }
  std::string key = keys::seed(msg.epoch_index(), signer);
  if (ctx.store().has(key)) {
    return reject(codes::kSeedAlreadySubmitted, "seed rejected: " + msg.creator() +
                                                    " already submitted its seed for epoch " +
                                                    std::to_string(msg.epoch_index()));
  }
  RandomSeed s;
  s.set_participant(signer);
  s.set_epoch_index(msg.epoch_index());
  s.set_signature(msg.signature());
  s.set_height(ctx.height());
  ctx.store().set(key, s.SerializeAsString());
  ctx.emit(
      types::Event{common::events::kPocSeed,
                   {{"participant", msg.creator()}, {"epoch_index", std::to_string(msg.epoch_index())}}});
  return {};
}

std::vector<PoCBatch> scan_batches(const store::KvReader& state, const std::string& prefix) {
  std::vector<PoCBatch> out;
  state.scan_prefix(prefix, [&](std::string_view, std::string_view value) {
    out.push_back(parse_record<PoCBatch>(value, "PoC batch"));
    return true;
  });
  return out;
}

common::Result<uint64_t> parse_u64(const std::string& text, const std::string& what) {
  if (text.empty() || text.size() > 19 ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return invalid(what + " must be a non-negative integer, got \"" + text + "\"");
  }
  return std::stoull(text);
}

nlohmann::json batches_json(const std::vector<PoCBatch>& batches, const std::string& hrp) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& b : batches) list.push_back(batch_to_json(b, hrp));
  return list;
}

}  // namespace

std::string batch_epoch_prefix(uint64_t epoch) {
  return keys::batch_epoch(epoch);
}

void for_each_batch(const store::KvReader& state, uint64_t epoch,
                    const std::function<void(const PoCBatch&)>& fn) {
  PoCBatch b;
  state.scan_prefix(keys::batch_epoch(epoch), [&](std::string_view, std::string_view value) {
    if (!b.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      throw std::logic_error("corrupt PoC batch record in state");
    }
    fn(b);
    return true;
  });
}

std::vector<PoCBatch> get_poc_batches_for_participant(const store::KvReader& state, uint64_t epoch,
                                                      const types::Address& participant) {
  return scan_batches(state, keys::batch_participant(epoch, participant));
}

std::vector<PoCBatch> get_poc_batches_for_node(const store::KvReader& state, uint64_t epoch,
                                               const types::Address& participant, std::string_view node_id) {
  if (node_id.find('\0') != std::string_view::npos) return {};
  return scan_batches(state, keys::batch_node(epoch, participant, node_id));
}

std::vector<PoCBatch> get_poc_batches_for_model(const store::KvReader& state, uint64_t epoch,
                                                std::string_view model_id) {
  std::vector<PoCBatch> out;
  for (const auto& ref : nodes::get_nodes_for_model(state, model_id)) {
    auto b = get_poc_batches_for_node(state, epoch, ref.participant, ref.node.local_id());
    out.insert(out.end(), std::make_move_iterator(b.begin()), std::make_move_iterator(b.end()));
  }
  return out;
}

uint64_t calculate_node_weight(std::vector<uint64_t>& nonces) {
  std::sort(nonces.begin(), nonces.end());
  return static_cast<uint64_t>(std::unique(nonces.begin(), nonces.end()) - nonces.begin());
}

namespace {
std::vector<weights::NodeWeight> participant_node_weights(const store::KvReader& state, uint64_t epoch,
                                                          const types::Address& participant) {
  std::vector<weights::NodeNonces> nodes;
  for (const auto& b : get_poc_batches_for_participant(state, epoch, participant)) {
    if (nodes.empty() || nodes.back().node_id != b.node_id()) nodes.push_back({b.node_id(), {}});
    nodes.back().nonces.insert(nodes.back().nonces.end(), b.nonces().begin(), b.nonces().end());
  }
  return weights::count_participant_nonces(nodes);
}
uint64_t weight_of(const std::vector<weights::NodeWeight>& list, std::string_view node_id) {
  for (const auto& w : list) {
    if (w.node_id == node_id) return w.poc_weight;
  }
  return 0;
}
}  // namespace

uint64_t calculate_node_weight(const store::KvReader& state, uint64_t epoch,
                               const types::Address& participant, std::string_view node_id) {
  return weight_of(participant_node_weights(state, epoch, participant), node_id);
}

types::u128 calculate_model_power(const store::KvReader& state, uint64_t epoch, std::string_view model_id) {
  types::u128 total = 0;
  std::optional<types::Address> who;
  std::vector<weights::NodeWeight> list;
  for (const auto& ref : nodes::get_nodes_for_model(state, model_id)) {  // sorted by participant
    if (ref.node.models_size() == 0 || ref.node.models(0) != model_id) continue;
    if (!who || *who != ref.participant) {
      who = ref.participant;
      list = participant_node_weights(state, epoch, ref.participant);
    }
    total += weight_of(list, ref.node.local_id());
  }
  return total;
}

std::vector<PoCValidation> get_validations(const store::KvReader& state, uint64_t epoch) {
  std::vector<PoCValidation> out;
  state.scan_prefix(keys::validation_epoch(epoch), [&](std::string_view, std::string_view value) {
    out.push_back(parse_record<PoCValidation>(value, "PoC validation"));
    return true;
  });
  return out;
}

std::optional<RandomSeed> get_seed(const store::KvReader& state, uint64_t epoch,
                                   const types::Address& participant) {
  auto raw = state.get(keys::seed(epoch, participant));
  if (!raw) return std::nullopt;
  return parse_record<RandomSeed>(*raw, "seed");
}

nlohmann::json batch_to_json(const PoCBatch& b, const std::string& hrp) {
  nlohmann::json dist = nlohmann::json::array();
  for (double d : b.dist()) dist.push_back(d);  // determinism-ok: query output only, never state
  return {{"participant", types::to_bech32(hrp, b.participant())},
          {"node_id", b.node_id()},
          {"batch_id", b.batch_id()},
          {"nonces", std::vector<uint64_t>(b.nonces().begin(), b.nonces().end())},
          {"dist", dist},
          {"epoch_index", b.epoch_index()},
          {"poc_start_height", b.poc_start_height()},
          {"received_at_height", b.received_at_height()}};
}

nlohmann::json validation_to_json(const PoCValidation& v, const std::string& hrp) {
  return {{"participant", types::to_bech32(hrp, v.participant())},
          {"validator", types::to_bech32(hrp, v.validator())},
          {"epoch_index", v.epoch_index()},
          {"fraud_detected", v.fraud_detected()},
          {"n_invalid", v.n_invalid()},
          {"sample_size", v.sample_size()},
          {"validated_at_height", v.validated_at_height()}};
}

size_t prune_epochs_before(store::KvStore& state, uint64_t below, size_t max_keys) {
  uint64_t floor = 0;
  if (auto raw = state.get(keys::kPruneFloor)) {
    if (raw->size() != 8) throw std::logic_error("corrupt PoC prune floor in state");
    floor = common::get_be64(*raw);
  }
  const uint64_t start = floor;
  size_t erased = 0;
  std::vector<std::string> doomed;
  while (floor < below && erased < max_keys) {
    doomed.clear();
    for (auto prefix : keys::kEpochPrefixes) {
      state.scan_prefix(std::string(prefix) + common::be64(floor),
                        [&](std::string_view key, std::string_view) {
                          if (erased + doomed.size() >= max_keys) return false;
                          doomed.emplace_back(key);
                          return true;
                        });
    }
    for (const auto& k : doomed) state.erase(k);
    erased += doomed.size();
    if (erased >= max_keys) break;  // the epoch may have more: the next block goes on from here
    ++floor;                        // nothing of `floor` is left
  }
  if (floor != start) state.set(keys::kPruneFloor, common::be64(floor));  // written only when it moves
  return erased;
}

void PocModule::end_block(app::Context& ctx, std::vector<app::ValidatorUpdate>&) {
  const auto& st = ctx.reader();
  uint64_t effective = epochs::effective_epoch_index(st);
  auto current = epochs::get_epoch(st, effective);
  if (!current) return;
  uint64_t retention = epochs::state_limits(current->params()).poc_retention_epochs;
  if (effective <= retention) return;
  prune_epochs_before(ctx.store(), effective - retention + 1, kMaxPrunedKeysPerBlock);
}

void PocModule::register_messages(app::MsgRouter& router) {
  router.add_typed<MsgSubmitPocBatch>(std::string(kMsgSubmitPocBatchUrl), check_batch, submit_batch);
  router.add_typed<MsgSubmitPocValidation>(std::string(kMsgSubmitPocValidationUrl), check_validation,
                                           submit_validation);
  router.add_typed<MsgSubmitSeed>(std::string(kMsgSubmitSeedUrl), check_seed, submit_seed);
}

void PocModule::register_queries(app::QueryRouter& router) {
  using app::QueryRequest;
  using Json = common::Result<nlohmann::json>;
  router.add("/inference/poc-batches/{epoch}", [](const QueryRequest& req) -> Json {
    auto epoch = parse_u64(req.param("epoch"), "epoch");
    if (!epoch) return epoch.error();
    std::vector<PoCBatch> all;
    for_each_batch(req.state, *epoch, [&](const PoCBatch& b) { all.push_back(b); });
    return nlohmann::json{{"epoch_index", *epoch}, {"batches", batches_json(all, req.hrp)}};
  });
  router.add("/inference/poc-batches/{epoch}/{participant}", [](const QueryRequest& req) -> Json {
    auto epoch = parse_u64(req.param("epoch"), "epoch");
    if (!epoch) return epoch.error();
    auto p = types::parse_address(req.hrp, req.param("participant"));
    if (!p) return p.error();
    return nlohmann::json{
        {"epoch_index", *epoch},
        {"participant", req.param("participant")},
        {"batches", batches_json(get_poc_batches_for_participant(req.state, *epoch, *p), req.hrp)}};
  });
  router.add("/inference/poc-batches/{epoch}/{participant}/{node_id}", [](const QueryRequest& req) -> Json {
    auto epoch = parse_u64(req.param("epoch"), "epoch");
    if (!epoch) return epoch.error();
    auto p = types::parse_address(req.hrp, req.param("participant"));
    if (!p) return p.error();
    std::string node = req.param("node_id");
    return nlohmann::json{
        {"epoch_index", *epoch},
        {"participant", req.param("participant")},
        {"node_id", node},
        {"node_weight", calculate_node_weight(req.state, *epoch, *p, node)},
        {"batches", batches_json(get_poc_batches_for_node(req.state, *epoch, *p, node), req.hrp)}};
  });
  router.add("/inference/poc-batches-for-model/{epoch}/{model_id...}", [](const QueryRequest& req) -> Json {
    auto epoch = parse_u64(req.param("epoch"), "epoch");
    if (!epoch) return epoch.error();
    std::string id = models::decode_model_id(req.param("model_id"));
    return nlohmann::json{
        {"epoch_index", *epoch},
        {"model_id", id},
        {"model_power", gov::u128_to_string(calculate_model_power(req.state, *epoch, id))},
        {"batches", batches_json(get_poc_batches_for_model(req.state, *epoch, id), req.hrp)}};
  });
  router.add("/inference/poc-validations/{epoch}", [](const QueryRequest& req) -> Json {
    auto epoch = parse_u64(req.param("epoch"), "epoch");
    if (!epoch) return epoch.error();
    nlohmann::json list = nlohmann::json::array();
    for (const auto& v : get_validations(req.state, *epoch)) list.push_back(validation_to_json(v, req.hrp));
    return nlohmann::json{{"epoch_index", *epoch}, {"validations", list}};
  });
}

}  // namespace chain::x::poc
