#include "chain/x/inference/inference.h"

#include <algorithm>
#include <optional>
#include <stdexcept>
#include <vector>

#include "chain/rng/rng.h"
#include "chain/types/codes.h"
#include "chain/types/coins.h"
#include "chain/types/int128.h"
#include "chain/x/auth/auth.h"
#include "chain/x/bank/bank.h"
#include "chain/x/epochs/epochs.h"
#include "chain/x/groups/groups.h"
#include "chain/x/models/models.h"
#include "chain/x/nodes/nodes.h"
#include "chain/x/record.h"
#include "chain/x/schedule/schedule.h"
#include "common/bytes.h"
#include "common/events.h"
#include "common/hash.h"
#include "common/requester_signature.h"

namespace chain::x::infer {

using types::u128;

namespace keys {
constexpr std::string_view kInferencePrefix = "inference/inf/";
constexpr std::string_view kExpiryPrefix = "inference/exp/";
constexpr std::string_view kCounterPrefix = "inference/cnt/";
std::string inference(std::string_view id) {
  return std::string(kInferencePrefix) + std::string(id);
}
std::string expiry(uint64_t height, std::string_view id) {
  return std::string(kExpiryPrefix) + common::be64(height) + std::string(id);
}
// Model ids never contain NUL: one model's counters form one contiguous, height-ordered range.
std::string counter_prefix(std::string_view model) {
  return std::string(kCounterPrefix) + std::string(model) + '\0';
}
std::string counter(std::string_view model, uint64_t height) {
  return counter_prefix(model) + common::be64(height);
}
// Finished or expired inferences by the epoch they started in, for pruning (issue 13).
constexpr std::string_view kDonePrefix = "inference/done/";
std::string done(uint64_t epoch, std::string_view id) {
  return std::string(kDonePrefix) + common::be64(epoch) + std::string(id);
}
constexpr std::string_view kPruneFloor = "inference/prune_floor";
// Sampled inferences awaiting validation, by deadline height.
constexpr std::string_view kValidationPrefix = "inference/val/";
std::string validation(uint64_t deadline, std::string_view id) {
  return std::string(kValidationPrefix) + common::be64(deadline) + std::string(id);
}
// Requester-signed requests already used, by timestamp (a replay index: entries older than the skew window
// can never verify again and are pruned in EndBlock).
constexpr std::string_view kRequestPrefix = "inference/req/";
std::string request(uint64_t timestamp_ms, const types::Address& requester, std::string_view request_hash) {
  return std::string(kRequestPrefix) + common::be64(timestamp_ms) + std::string(requester) +
         std::string(request_hash);
}
}  // namespace keys

namespace {

common::Status validate_inference_id(const std::string& id) {
  if (id.empty() || id.size() > kMaxInferenceIdLength) {
    return invalid("inference_id must be 1-" + std::to_string(kMaxInferenceIdLength) + " characters");
  }
  for (char c : id) {
    if (static_cast<unsigned char>(c) < 0x21 || static_cast<unsigned char>(c) > 0x7e) {
      return invalid("inference_id must be printable ASCII without spaces");
    }
  }
  return {};
}

void put_record(store::KvStore& st, const Inference& inf) {
  st.set(keys::inference(inf.id()), inf.SerializeAsString());
}

void add_to_counter(store::KvStore& st, std::string_view model, uint64_t height, uint64_t tokens,
                    uint64_t finished, uint64_t started, uint64_t poc_slot_tokens = 0) {
  std::string key = keys::counter(model, height);
  TokenCounter c;
  if (auto raw = st.get(key)) c = parse_record<TokenCounter>(*raw, "token counter");
  auto sat = [](uint64_t a, uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; };
  c.set_tokens(sat(c.tokens(), tokens));
  c.set_finished(sat(c.finished(), finished));
  c.set_started(sat(c.started(), started));
  if (poc_slot_tokens > 0) c.set_poc_slot_tokens(sat(c.poc_slot_tokens(), poc_slot_tokens));
  st.set(key, c.SerializeAsString());
}

// The PoC phases the validation deadline rule looks at, oldest first, from the epochs in state: the effective
// epoch's (epoch 0 runs none), then the running one (the upcoming epoch, from its PoC start to its switch)
// or, before it starts, the next one: its start is fixed by the effective epoch's params, its stage lengths
// are the governance params it will snapshot at that start (a governance change in between is caught when the
// deadline is reached: the rule is applied again in EndBlock).
std::vector<ValidationPocPhase> validation_poc_phases(const store::KvReader& st) {
  std::vector<ValidationPocPhase> phases;
  uint64_t effective = epochs::effective_epoch_index(st);
  auto current = epochs::get_epoch(st, effective);
  if (!current) throw std::logic_error("effective epoch " + std::to_string(effective) + " has no record");
  if (effective > 0) {
    auto s = epochs::stages_of(*current);
    phases.push_back({s.poc_start, s.set_new_validators, s.next_poc_start});
  }
  if (auto upcoming = epochs::upcoming_epoch(st)) {
    auto s = epochs::stages_of(*upcoming);
    phases.push_back({s.poc_start, s.set_new_validators, s.next_poc_start});
  } else {
    auto s = common::epochs::compute_stages(epochs::stage_params(epochs::get_params(st)),
                                            epochs::next_poc_start(*current));
    phases.push_back({s.poc_start, s.set_new_validators, s.next_poc_start});
  }
  return phases;
}

uint64_t validation_deadline_outside_poc(const std::vector<ValidationPocPhase>& phases, uint64_t finish,
                                         uint64_t deadline, uint64_t window) {
  for (const auto& phase : phases) deadline = validation_deadline_past_poc(finish, deadline, window, phase);
  return deadline;
}

common::Status check_start(const MsgStartInference& msg, const types::Address& signer,
                           const std::string& hrp) {
  auto creator = types::parse_address(hrp, msg.creator());
  if (!creator || *creator != signer)
    return common::make_error(codes::kUnauthorized, "MsgStartInference: creator must be the signer");
  TRY_STATUS(validate_inference_id(msg.inference_id()));
  if (msg.model().empty() || msg.model().find('\0') != std::string::npos)
    return invalid("MsgStartInference: model is required");
  if (!msg.requester().empty() && !types::parse_address(hrp, msg.requester())) {
    return common::make_error(codes::kInvalidAddress,
                              "MsgStartInference: invalid requester address \"" + msg.requester() + "\"");
  }
  if (!types::parse_address(hrp, msg.executor())) {
    return common::make_error(codes::kInvalidAddress,
                              "MsgStartInference: invalid executor address \"" + msg.executor() + "\"");
  }
  if (msg.executor_node().empty()) return invalid("MsgStartInference: executor_node is required");
  if (msg.max_tokens() == 0 || msg.max_tokens() > kMaxTokens) {
    return invalid("MsgStartInference: max_tokens must be in [1, " + std::to_string(kMaxTokens) + "]");
  }
  if (msg.prompt_hash().size() > 64) return invalid("MsgStartInference: prompt_hash is at most 64 bytes");
  if (!msg.requester().empty() && msg.requester() != msg.creator()) {
    if (msg.request_hash().size() != 32)
      return invalid("MsgStartInference: request_hash must be the 32-byte SHA-256 of the signed body");
    if (msg.requester_signature().size() != 64)
      return invalid("MsgStartInference: requester_signature must be 64 bytes (r || s)");
  } else if (!msg.request_hash().empty() || !msg.requester_signature().empty() ||
             msg.request_timestamp_ms() != 0) {
    return invalid(
        "MsgStartInference: request_hash, request_timestamp_ms and requester_signature are only for "
        "a requester other than the transfer agent");
  }
  return {};
}

common::Status start(app::Context& ctx, const MsgStartInference& msg, const types::Address& signer) {
  const auto& st = ctx.reader();
  if (!nodes::get_participant(st, signer)) {
    return common::make_error(codes::kUnauthorized, "MsgStartInference: transfer agent " + msg.creator() +
                                                        " is not a registered participant");
  }
  if (st.has(keys::inference(msg.inference_id()))) {
    return reject(codes::kInferenceExists,
                  "MsgStartInference: inference \"" + msg.inference_id() + "\" already exists; use a new id");
  }
  types::Address requester =
      msg.requester().empty() ? signer : *types::parse_address(ctx.hrp(), msg.requester());
  types::Address executor = *types::parse_address(ctx.hrp(), msg.executor());
  std::string replay;  // the replay index entry of a requester-signed request, written on success
  if (requester != signer) {
    auto account = auth::get_account(st, requester);
    if (!account || account->public_key().empty()) {
      return common::make_error(codes::kUnauthorized,
                                "MsgStartInference: requester " + msg.requester() +
                                    " has no public key on chain (it must have signed a tx)");
    }
    const std::string& requester_bech32 = msg.requester();
    if (!common::requester_signature::timestamp_fresh(msg.request_timestamp_ms(), ctx.block().time_unix_ms)) {
      return common::make_error(
          codes::kUnauthorized,
          "MsgStartInference: request_timestamp_ms " + std::to_string(msg.request_timestamp_ms()) +
              " is more than " + std::to_string(common::requester_signature::kMaxRequestSkewMs) +
              " ms from the block time " + std::to_string(ctx.block().time_unix_ms) + " (stale or future)");
    }
    if (!common::requester_signature::verify(account->public_key(), ctx.block().chain_id, msg.creator(),
                                             msg.request_timestamp_ms(), msg.request_hash(),
                                             msg.requester_signature())) {
      return common::make_error(codes::kUnauthorized,
                                "MsgStartInference: requester_signature does not verify for " +
                                    requester_bech32 + " over (chain id, transfer agent " + msg.creator() +
                                    ", request_timestamp_ms, request_hash) (docs/requester-signature.md)");
    }
    std::string replay_key = keys::request(msg.request_timestamp_ms(), requester, msg.request_hash());
    if (st.has(replay_key)) {
      return common::make_error(codes::kUnauthorized, "MsgStartInference: this signed request of " +
                                                          requester_bech32 + " was already used (replay)");
    }
    replay = std::move(replay_key);
  }
  uint64_t epoch = epochs::effective_epoch_index(st);
  auto group = groups::get_group(st, epoch, msg.model());
  if (!group || !group->has_model_snapshot()) {
    return reject(codes::kModelNotServed, "MsgStartInference: model \"" + msg.model() +
                                              "\" is not served in the current epoch " +
                                              std::to_string(epoch) + " (no model sub-group)");
  }
  auto member = groups::get_member(st, epoch, msg.model(), executor);
  const groups::MLNodeInfo* node = nullptr;
  if (member) {
    for (const auto& n : member->ml_nodes()) {
      if (n.node_id() == msg.executor_node()) node = &n;
    }
  }
  if (!node) {
    return reject(codes::kExecutorNodeUnknown, "MsgStartInference: executor " + msg.executor() +
                                                   " has no node \"" + msg.executor_node() + "\" serving \"" +
                                                   msg.model() + "\" in epoch " + std::to_string(epoch));
  }
  auto slot_of = [&](size_t slot) {
    return node->timeslot_allocation_size() > static_cast<int>(slot) &&
           node->timeslot_allocation(static_cast<int>(slot));
  };
  if (auto upcoming = epochs::upcoming_epoch(st)) {
    // From PoC start to the epoch switch only POC_SLOT nodes serve; the others mine (ARCHITECTURE §7.7).
    if (!slot_of(schedule::kPocSlot)) {
      return reject(codes::kExecutorNodeNotServing,
                    "MsgStartInference: PoC of epoch " + std::to_string(upcoming->index()) +
                        " started at height " + std::to_string(upcoming->poc_start_height()) +
                        "; until the epoch switch the executor node must hold POC_SLOT for \"" + msg.model() +
                        "\", and node \"" + msg.executor_node() + "\" of " + msg.executor() +
                        " does not (ask /inference/executor?model=... for one that does)");
    }
  } else if (!slot_of(schedule::kPrePocSlot)) {
    // An MLNode serves one model at a time: its first model (ARCHITECTURE §7.4).
    return reject(
        codes::kExecutorNodeNotServing,
        "MsgStartInference: node \"" + msg.executor_node() + "\" of " + msg.executor() +
            " does not serve \"" + msg.model() + "\" in epoch " + std::to_string(epoch) +
            ": an MLNode serves only its first model (ask /inference/executor?model=... for one that does)");
  }
  auto price = types::checked_mul(group->model_snapshot().units_of_compute_per_token(),
                                  group->unit_of_compute_price());
  auto escrow = price ? types::checked_mul(*price, msg.max_tokens()) : std::nullopt;
  if (!escrow) return invalid("MsgStartInference: max_tokens x per-token price overflows 64 bits");
  if (*escrow > 0) {
    uint64_t have = bank::balance(st, requester, types::kBaseDenom);
    if (have < *escrow) {
      return common::make_error(codes::kInsufficientFunds,
                                "MsgStartInference: requester " + types::to_bech32(ctx.hrp(), requester) +
                                    " has " + std::to_string(have) + "nicoin, the escrow of " +
                                    std::to_string(msg.max_tokens()) + " tokens x " + std::to_string(*price) +
                                    "nicoin is " + std::to_string(*escrow) + "nicoin");
    }
    TRY_STATUS(bank::send(ctx, requester, escrow_address(), {std::string(types::kBaseDenom), *escrow}));
  }
  auto params = schedule::get_params(st);
  Inference inf;
  inf.set_id(msg.inference_id());
  inf.set_model(msg.model());
  inf.set_requester(requester);
  inf.set_transfer_agent(signer);
  inf.set_executor(executor);
  inf.set_executor_node(msg.executor_node());
  inf.set_prompt_hash(msg.prompt_hash());
  inf.set_max_tokens(msg.max_tokens());
  inf.set_per_token_price(*price);
  inf.set_escrow(*escrow);
  inf.set_status(::inference::inference::INFERENCE_STATUS_STARTED);
  inf.set_start_height(ctx.height());
  inf.set_expiry_height(ctx.height() + std::max<uint64_t>(1, params.inference_expiration_blocks()));
  inf.set_epoch_index(epoch);
  put_record(ctx.store(), inf);
  if (!replay.empty()) ctx.store().set(replay, inf.id());
  ctx.store().set(keys::expiry(inf.expiry_height(), inf.id()), "");
  add_to_counter(ctx.store(), inf.model(), ctx.height(), 0, 0, 1);
  ctx.emit(types::Event{common::events::kInferenceStarted,
                        {{"inference_id", inf.id()},
                         {"model", inf.model()},
                         {"executor", msg.executor()},
                         {"executor_node", inf.executor_node()},
                         {"escrow", std::to_string(inf.escrow())},
                         {"expiry_height", std::to_string(inf.expiry_height())}}});
  return {};
}

common::Status check_finish(const MsgFinishInference& msg, const types::Address& signer,
                            const std::string& hrp) {
  auto creator = types::parse_address(hrp, msg.creator());
  if (!creator || *creator != signer)
    return common::make_error(codes::kUnauthorized, "MsgFinishInference: creator must be the signer");
  TRY_STATUS(validate_inference_id(msg.inference_id()));
  if (msg.response_hash().size() > 64)
    return invalid("MsgFinishInference: response_hash is at most 64 bytes");
  return {};
}

common::Status finish(app::Context& ctx, const MsgFinishInference& msg, const types::Address& signer) {
  auto inf = get_inference(ctx.reader(), msg.inference_id());
  if (!inf)
    return common::make_error(codes::kNotFound,
                              "MsgFinishInference: inference \"" + msg.inference_id() + "\" does not exist");
  if (inf->executor() != signer) {
    return common::make_error(codes::kUnauthorized, "MsgFinishInference: only the executor " +
                                                        types::to_bech32(ctx.hrp(), inf->executor()) +
                                                        " may finish inference \"" + inf->id() + "\"");
  }
  if (inf->status() == ::inference::inference::INFERENCE_STATUS_FINISHED) {
    return reject(codes::kInferenceFinished, "MsgFinishInference: inference \"" + inf->id() +
                                                 "\" was already finished at height " +
                                                 std::to_string(inf->finish_height()));
  }
  if (inf->status() == ::inference::inference::INFERENCE_STATUS_EXPIRED) {
    return reject(codes::kInferenceExpired,
                  "MsgFinishInference: inference \"" + inf->id() + "\" expired at height " +
                      std::to_string(inf->finish_height()) + " and its escrow was refunded to the requester");
  }
  u128 tokens = u128(msg.prompt_tokens()) + msg.completion_tokens();
  if (tokens > inf->max_tokens()) {
    return reject(codes::kTokensAboveMax,
                  "MsgFinishInference: prompt_tokens + completion_tokens = " +
                      std::to_string(static_cast<uint64_t>(std::min<u128>(tokens, UINT64_MAX))) +
                      " exceeds max_tokens " + std::to_string(inf->max_tokens()) + " of inference \"" +
                      inf->id() + "\"");
  }
  uint64_t cost = static_cast<uint64_t>(tokens * inf->per_token_price());  // ≤ escrow, which fits
  uint64_t refund = inf->escrow() - cost;
  auto params = schedule::get_params(ctx.reader());
  bool sampled = sampled_for_validation(ctx.block().chain_id, ctx.height(), ctx.block().last_block_hash,
                                        inf->id(), params.inference_validation_rate_ppm());
  if (sampled) {
    // The cost waits in escrow for a validation vote or the deadline (docs/inference-validation.md), which
    // never falls in a PoC phase (validation_deadline_past_poc).
    inf->set_validation(::inference::inference::INFERENCE_VALIDATION_PENDING);
    uint64_t window = std::max<uint64_t>(1, params.inference_expiration_blocks());
    inf->set_validation_deadline(validation_deadline_outside_poc(
        validation_poc_phases(ctx.reader()), ctx.height(), ctx.height() + window, window));
    ctx.store().set(keys::validation(inf->validation_deadline(), inf->id()), "");
  } else if (cost > 0) {
    TRY_STATUS(bank::send(ctx, escrow_address(), inf->executor(), {std::string(types::kBaseDenom), cost}));
  }
  if (refund > 0)
    TRY_STATUS(bank::send(ctx, escrow_address(), inf->requester(), {std::string(types::kBaseDenom), refund}));
  ctx.store().erase(keys::expiry(inf->expiry_height(), inf->id()));
  inf->set_prompt_tokens(msg.prompt_tokens());
  inf->set_completion_tokens(msg.completion_tokens());
  inf->set_response_hash(msg.response_hash());
  inf->set_cost(cost);
  inf->set_status(::inference::inference::INFERENCE_STATUS_FINISHED);
  inf->set_finish_height(ctx.height());
  put_record(ctx.store(), *inf);
  ctx.store().set(keys::done(inf->epoch_index(), inf->id()), "");
  // Real POC_SLOT throughput (§7.6) counts only the tokens of nodes holding POC_SLOT for this model while PoC
  // runs.
  uint64_t slot_tokens = 0;
  if (epochs::upcoming_epoch(ctx.reader())) {
    auto slot = schedule::get_poc_slot(ctx.reader(), epochs::effective_epoch_index(ctx.reader()),
                                       inf->executor(), inf->executor_node());
    if (slot && slot->model_id() == inf->model()) slot_tokens = static_cast<uint64_t>(tokens);
  }
  add_to_counter(ctx.store(), inf->model(), ctx.height(), static_cast<uint64_t>(tokens), 1, 0, slot_tokens);
  ctx.emit(types::Event{common::events::kInferenceFinished,
                        {{"inference_id", inf->id()},
                         {"model", inf->model()},
                         {"tokens", std::to_string(static_cast<uint64_t>(tokens))},
                         {"cost", std::to_string(cost)},
                         {"refund", std::to_string(refund)},
                         {"validation", sampled ? "sampled" : "not_sampled"}}});
  return {};
}

common::Status check_validate(const MsgValidateInference& msg, const types::Address& signer,
                              const std::string& hrp) {
  auto creator = types::parse_address(hrp, msg.creator());
  if (!creator || *creator != signer)
    return common::make_error(codes::kUnauthorized, "MsgValidateInference: creator must be the signer");
  return validate_inference_id(msg.inference_id());
}

common::Status validate(app::Context& ctx, const MsgValidateInference& msg, const types::Address& signer) {
  const auto& st = ctx.reader();
  if (!nodes::get_participant(st, signer)) {
    return common::make_error(codes::kUnauthorized,
                              "MsgValidateInference: " + msg.creator() + " is not a registered participant");
  }
  auto inf = get_inference(st, msg.inference_id());
  if (!inf) {
    return common::make_error(
        codes::kNotFound, "MsgValidateInference: inference \"" + msg.inference_id() + "\" does not exist");
  }
  if (inf->executor() == signer) {
    return common::make_error(codes::kUnauthorized,
                              "MsgValidateInference: the executor cannot validate its own inference");
  }
  if (inf->validation() != ::inference::inference::INFERENCE_VALIDATION_PENDING) {
    return reject(codes::kNotAwaitingValidation,
                  "MsgValidateInference: inference \"" + inf->id() +
                      "\" is not awaiting validation (not sampled, not finished, or already decided)");
  }
  ctx.store().erase(keys::validation(inf->validation_deadline(), inf->id()));
  types::Address payee = msg.valid() ? inf->executor() : inf->requester();
  if (inf->cost() > 0)
    TRY_STATUS(bank::send(ctx, escrow_address(), payee, {std::string(types::kBaseDenom), inf->cost()}));
  inf->set_validation(msg.valid() ? ::inference::inference::INFERENCE_VALIDATION_VALID
                                  : ::inference::inference::INFERENCE_VALIDATION_INVALID);
  inf->set_validated_by(signer);
  put_record(ctx.store(), *inf);
  ctx.emit(types::Event{common::events::kInferenceValidated,
                        {{"inference_id", inf->id()},
                         {"valid", msg.valid() ? "true" : "false"},
                         {"validator", msg.creator()},
                         {"paid_to", types::to_bech32(ctx.hrp(), payee)},
                         {"amount", std::to_string(inf->cost())}}});
  return {};
}

common::Result<uint64_t> parse_u64(const std::string& name, const std::string& text) {
  if (text.empty() || text.size() > 19 ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return invalid(name + " must be a non-negative integer, got \"" + text + "\"");
  }
  return std::stoull(text);
}

std::string_view validation_name(::inference::inference::InferenceValidation v) {
  switch (v) {
    case ::inference::inference::INFERENCE_VALIDATION_PENDING:
      return "PENDING";
    case ::inference::inference::INFERENCE_VALIDATION_VALID:
      return "VALID";
    case ::inference::inference::INFERENCE_VALIDATION_INVALID:
      return "INVALID";
    case ::inference::inference::INFERENCE_VALIDATION_UNCHALLENGED:
      return "UNCHALLENGED";
    default:
      return "NOT_SAMPLED";
  }
}

std::string_view status_name(InferenceStatus s) {
  switch (s) {
    case ::inference::inference::INFERENCE_STATUS_STARTED:
      return "STARTED";
    case ::inference::inference::INFERENCE_STATUS_FINISHED:
      return "FINISHED";
    case ::inference::inference::INFERENCE_STATUS_EXPIRED:
      return "EXPIRED";
    default:
      return "UNSPECIFIED";
  }
}

}  // namespace

uint64_t validation_deadline_past_poc(uint64_t finish, uint64_t deadline, uint64_t window,
                                      const ValidationPocPhase& poc) {
  if (finish > poc.end || deadline < poc.start) return deadline;  // the window does not meet this PoC
  uint64_t after_switch =
      poc.next_start > poc.end && poc.next_start - poc.end > 1 ? poc.next_start - poc.end - 1 : 1;
  uint64_t add = std::min(std::max<uint64_t>(1, window), after_switch);
  uint64_t moved = poc.end > UINT64_MAX - add ? UINT64_MAX : poc.end + add;
  return std::max(deadline, moved);
}

bool sampled_for_validation(std::string_view chain_id, uint64_t height, std::string_view last_block_hash,
                            std::string_view inference_id, uint64_t rate_ppm) {
  if (rate_ppm == 0) return false;
  if (rate_ppm >= 1'000'000) return true;
  std::string seed = rng::seed(kValidationSampleDomain, chain_id, height,
                               std::string(last_block_hash) + std::string(inference_id));
  return rng::draw(seed, 0) % 1'000'000 < rate_ppm;
}

types::Address escrow_address() {
  return types::module_address(kEscrowModule);
}

size_t prune_used_requests(store::KvStore& state, int64_t block_time_ms, size_t max_entries) {
  uint64_t skew = common::requester_signature::kMaxRequestSkewMs;
  if (block_time_ms < 0 || static_cast<uint64_t>(block_time_ms) <= skew) return 0;
  // Timestamps below this can never pass timestamp_fresh again.
  uint64_t below = static_cast<uint64_t>(block_time_ms) - skew;
  std::vector<std::string> old;
  std::string end = std::string(keys::kRequestPrefix) + common::be64(below);
  state.scan(keys::kRequestPrefix, end, [&](std::string_view key, std::string_view) {
    old.emplace_back(key);
    return old.size() < max_entries;
  });
  for (const auto& k : old) state.erase(k);
  return old.size();
}

std::optional<Inference> get_inference(const store::KvReader& state, std::string_view id) {
  auto raw = state.get(keys::inference(id));
  if (!raw) return std::nullopt;
  return parse_record<Inference>(*raw, "inference");
}

TokenCounter sum_counters(const store::KvReader& state, std::string_view model_id, uint64_t from,
                          uint64_t to) {
  TokenCounter total;
  if (from > to || model_id.find('\0') != std::string_view::npos) return total;
  std::string start = keys::counter(model_id, from);
  std::string end =
      to == UINT64_MAX ? store::prefix_end(keys::counter_prefix(model_id)) : keys::counter(model_id, to + 1);
  u128 tokens = 0, finished = 0, started = 0, slot_tokens = 0;
  state.scan(start, end, [&](std::string_view, std::string_view value) {
    auto c = parse_record<TokenCounter>(value, "token counter");
    tokens += c.tokens();
    slot_tokens += c.poc_slot_tokens();
    finished += c.finished();
    started += c.started();
    return true;
  });
  auto sat = [](u128 v) { return v > UINT64_MAX ? UINT64_MAX : static_cast<uint64_t>(v); };
  total.set_tokens(sat(tokens));
  total.set_finished(sat(finished));
  total.set_poc_slot_tokens(sat(slot_tokens));
  total.set_started(sat(started));
  return total;
}

nlohmann::json inference_to_json(const Inference& inf, const std::string& hrp) {
  return {{"id", inf.id()},
          {"model", inf.model()},
          {"requester", types::to_bech32(hrp, inf.requester())},
          {"transfer_agent", types::to_bech32(hrp, inf.transfer_agent())},
          {"executor", types::to_bech32(hrp, inf.executor())},
          {"executor_node", inf.executor_node()},
          {"prompt_hash", common::to_hex(inf.prompt_hash())},
          {"response_hash", common::to_hex(inf.response_hash())},
          {"max_tokens", inf.max_tokens()},
          {"prompt_tokens", inf.prompt_tokens()},
          {"completion_tokens", inf.completion_tokens()},
          {"per_token_price", std::to_string(inf.per_token_price())},
          {"escrow", std::to_string(inf.escrow())},
          {"cost", std::to_string(inf.cost())},
          {"status", status_name(inf.status())},
          {"start_height", inf.start_height()},
          {"finish_height", inf.finish_height()},
          {"expiry_height", inf.expiry_height()},
          {"epoch_index", inf.epoch_index()},
          {"validation", validation_name(inf.validation())},
          {"validation_deadline", inf.validation_deadline()},
          {"validated_by", inf.validated_by().empty() ? "" : types::to_bech32(hrp, inf.validated_by())}};
}

void InferenceModule::register_messages(app::MsgRouter& router) {
  router.add_typed<MsgStartInference>(std::string(kMsgStartInferenceUrl), check_start, start);
  router.add_typed<MsgFinishInference>(std::string(kMsgFinishInferenceUrl), check_finish, finish);
  router.add_typed<MsgValidateInference>(std::string(kMsgValidateInferenceUrl), check_validate, validate);
}

void InferenceModule::register_queries(app::QueryRouter& router) {
  using app::QueryRequest;
  using Json = common::Result<nlohmann::json>;
  router.add("/inference/inferences/{id...}", [](const QueryRequest& req) -> Json {
    auto inf = get_inference(req.state, req.param("id"));
    if (!inf)
      return common::make_error(codes::kNotFound, "inference \"" + req.param("id") + "\" does not exist");
    return nlohmann::json{{"inference", inference_to_json(*inf, req.hrp)}};
  });
  // Counts of one model over blocks [from, to] (default: every block up to the committed height).
  router.add("/inference/inference-counts/{model_id...}", [](const QueryRequest& req) -> Json {
    std::string model = models::decode_model_id(req.param("model_id"));
    auto height = parse_u64("height", req.param("height", "0"));
    if (!height) return height.error();
    auto from = parse_u64("from", req.param("from", "0"));
    if (!from) return from.error();
    auto to = parse_u64("to", req.param("to", std::to_string(*height)));
    if (!to) return to.error();
    auto c = sum_counters(req.state, model, *from, *to);
    return nlohmann::json{
        {"model", model},           {"from", *from},         {"to", *to}, {"tokens", c.tokens()},
        {"finished", c.finished()}, {"started", c.started()}};
  });
}

size_t prune_done_inferences_before(store::KvStore& state, uint64_t below, size_t max_records) {
  uint64_t floor = 0;
  if (auto raw = state.get(keys::kPruneFloor)) {
    if (raw->size() != 8) throw std::logic_error("corrupt inference prune floor in state");
    floor = common::get_be64(*raw);
  }
  const uint64_t start = floor;
  size_t erased = 0;
  std::vector<std::string> ids;
  while (floor < below && erased < max_records) {
    ids.clear();
    const std::string prefix = std::string(keys::kDonePrefix) + common::be64(floor);
    state.scan_prefix(prefix, [&](std::string_view key, std::string_view) {
      if (erased + ids.size() >= max_records) return false;
      ids.emplace_back(key.substr(prefix.size()));
      return true;
    });
    for (const auto& id : ids) {
      state.erase(keys::inference(id));
      state.erase(keys::done(floor, id));
    }
    erased += ids.size();
    if (erased >= max_records) break;  // more of `floor` may be left: the next block goes on
    ++floor;
  }
  if (floor != start) state.set(keys::kPruneFloor, common::be64(floor));  // written only when it moves
  return erased;
}

void InferenceModule::end_block(app::Context& ctx, std::vector<app::ValidatorUpdate>&) {
  // Finished inferences of old epochs leave state (bounded per block).
  {
    uint64_t effective = epochs::effective_epoch_index(ctx.reader());
    auto current = epochs::get_epoch(ctx.reader(), effective);
    uint64_t retention = current ? epochs::state_limits(current->params()).inference_retention_epochs : 0;
    if (current && effective > retention) {
      prune_done_inferences_before(ctx.store(), effective - retention + 1, kMaxPrunedInferencesPerBlock);
    }
  }
  prune_used_requests(ctx.store(), ctx.block().time_unix_ms, kMaxPrunedRequestsPerBlock);
  // Sampled inferences nobody voted on by their deadline are paid (abstaining never counts as invalid),
  // unless the deadline is in a PoC phase or its window met one: then it moves past the PoC (the same rule as
  // at finish, now with the stage heights of the epochs in state), so none is ever settled during a PoC.
  {
    std::vector<std::string> unchallenged;
    std::string end = std::string(keys::kValidationPrefix) + common::be64(ctx.height() + 1);
    ctx.reader().scan(keys::kValidationPrefix, end, [&](std::string_view key, std::string_view) {
      unchallenged.emplace_back(key.substr(keys::kValidationPrefix.size() + 8));
      return true;
    });
    // Read once, when a pending one is due.
    std::optional<std::vector<ValidationPocPhase>> phases;
    uint64_t window = 1;
    for (const auto& id : unchallenged) {
      auto inf = get_inference(ctx.reader(), id);
      if (!inf) continue;
      ctx.store().erase(keys::validation(inf->validation_deadline(), id));
      if (inf->validation() != ::inference::inference::INFERENCE_VALIDATION_PENDING) continue;
      if (!phases) {
        phases = validation_poc_phases(ctx.reader());
        window = std::max<uint64_t>(1, schedule::get_params(ctx.reader()).inference_expiration_blocks());
      }
      uint64_t moved =
          validation_deadline_outside_poc(*phases, inf->finish_height(), inf->validation_deadline(), window);
      if (moved > ctx.height()) {
        inf->set_validation_deadline(moved);
        ctx.store().set(keys::validation(moved, id), "");
        put_record(ctx.store(), *inf);
        ctx.emit(types::Event{common::events::kInferenceValidationDeadlineMoved,
                              {{"inference_id", id}, {"validation_deadline", std::to_string(moved)}}});
        continue;
      }
      if (inf->cost() > 0) {
        auto st =
            bank::send(ctx, escrow_address(), inf->executor(), {std::string(types::kBaseDenom), inf->cost()});
        if (!st) throw std::logic_error("inference escrow cannot pay \"" + id + "\": " + st.error().message);
      }
      inf->set_validation(::inference::inference::INFERENCE_VALIDATION_UNCHALLENGED);
      put_record(ctx.store(), *inf);
      ctx.emit(types::Event{common::events::kInferenceValidationUnchallenged, {{"inference_id", id}}});
    }
  }
  // Expiry index in height order: every entry with expiry_height <= h (normally exactly h).
  std::vector<std::string> due;
  std::string end = std::string(keys::kExpiryPrefix) + common::be64(ctx.height() + 1);
  ctx.reader().scan(keys::kExpiryPrefix, end, [&](std::string_view key, std::string_view) {
    due.emplace_back(key.substr(keys::kExpiryPrefix.size() + 8));
    return true;
  });
  for (const auto& id : due) {
    auto inf = get_inference(ctx.reader(), id);
    uint64_t expiry = inf ? inf->expiry_height() : 0;
    if (!inf || inf->status() != ::inference::inference::INFERENCE_STATUS_STARTED) {
      if (inf) ctx.store().erase(keys::expiry(expiry, id));
      continue;
    }
    ctx.store().erase(keys::expiry(expiry, id));
    if (inf->escrow() > 0) {
      auto st = bank::send(ctx, escrow_address(), inf->requester(),
                           {std::string(types::kBaseDenom), inf->escrow()});
      if (!st) throw std::logic_error("inference escrow cannot refund \"" + id + "\": " + st.error().message);
    }
    inf->set_status(::inference::inference::INFERENCE_STATUS_EXPIRED);
    inf->set_finish_height(ctx.height());
    put_record(ctx.store(), *inf);
    ctx.store().set(keys::done(inf->epoch_index(), id), "");
    ctx.emit(types::Event{common::events::kInferenceExpired,
                          {{"inference_id", id},
                           {"model", inf->model()},
                           {"refund", std::to_string(inf->escrow())},
                           {"requester", types::to_bech32(ctx.hrp(), inf->requester())}}});
  }
}

}  // namespace chain::x::infer
