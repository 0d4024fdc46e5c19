#include "api/validation/validator.h"

#include "api/json_fields.h"

#include <algorithm>

#include "common/bytes.h"
#include "common/events.h"
#include "common/hash.h"
#include "common/log.h"

namespace api::validation {

using nlohmann::json;

namespace {

constexpr const char* kTodoPrefix = "validation/todo/";
constexpr const char* kDonePrefix = "validation/done/";
constexpr const char* kDoneAtPrefix = "validation/done_at/";  // <height (8 bytes)><id> -> "" (pruning index)

using api::str;

uint64_t u64(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_unsigned() ? it->get<uint64_t>() : 0;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

Decision retry(std::string why) {
  return {Action::kRetry, std::move(why)};
}

}  // namespace

std::optional<InferenceRecord> record_from_json(const json& j) {
  if (!j.is_object() || str(j, "id").empty()) return std::nullopt;
  InferenceRecord r;
  r.id = str(j, "id");
  r.model = str(j, "model");
  r.executor = str(j, "executor");
  r.status = str(j, "status");
  r.validation = str(j, "validation");
  r.finish_height = u64(j, "finish_height");
  r.validation_deadline = u64(j, "validation_deadline");
  r.prompt_hash = lower(str(j, "prompt_hash"));
  r.response_hash = lower(str(j, "response_hash"));
  return r;
}

std::string action_name(Action a) {
  switch (a) {
    case Action::kRetry:
      return "retry";
    case Action::kVoteValid:
      return "valid";
    case Action::kVoteInvalid:
      return "invalid";
    case Action::kAbstain:
      return "abstained";
    default:
      return "skipped";
  }
}

std::string Validator::todo_key(const std::string& id) {
  return kTodoPrefix + id;
}
std::string Validator::done_key(const std::string& id) {
  return kDonePrefix + id;
}

Validator::Validator(ValidatorDeps deps, ValidatorOptions options) : d_(std::move(deps)), o_(options) {}

Validator::~Validator() {
  stop();
}

void Validator::on_block(const chain::Block& block) {
  height_ = block.height;
  state::WriteSet ws;
  for (const auto& tx : block.txs) {
    if (tx.code != 0) continue;
    for (const auto& ev : tx.events) {
      if (ev.type != common::events::kInferenceFinished) continue;
      if (ev.attribute("validation").value_or("") != "sampled") continue;
      std::string id = ev.attribute("inference_id").value_or("");
      if (id.empty() || id.size() > 128 || d_.store->has(done_key(id))) continue;
      ws.put(todo_key(id), json{{"seen_height", block.height}}.dump());
    }
  }
  if (!ws.empty()) {
    if (auto st = d_.store->write(ws); !st)
      spdlog::error("height {}: cannot remember sampled inferences: {}", block.height, st.error().message);
    wake_cv_.notify_all();
  }
}

Decision Validator::decide(const std::string& id, uint64_t height) {
  auto rec = d_.chain->inference(id);
  if (!rec) {
    if (rec.error().code == kNotFound) return {Action::kSkip, "unknown on chain"};
    return retry("cannot read the record: " + rec.error().message);
  }
  if (rec->validation != "PENDING")
    return {Action::kSkip, "not awaiting validation (" + rec->validation + ")"};
  if (rec->executor == d_.address) return {Action::kSkip, "executed by this participant"};
  uint64_t window =
      rec->validation_deadline > rec->finish_height ? rec->validation_deadline - rec->finish_height : 0;
  uint64_t margin = std::max<uint64_t>(3, window / 4);
  bool give_up = height + margin >= rec->validation_deadline;

  auto url = d_.chain->participant_url(rec->executor);
  if (!url) return retry("cannot read the executor's participant record: " + url.error().message);
  auto payload = d_.fetcher->fetch(*url, rec->executor, id);
  if (!payload) {
    std::string why = "the executor's payload: " + payload.error().message;
    if (payload.error().code == kRefusedAddress) return {Action::kAbstain, why};
    if (give_up) return {Action::kVoteInvalid, why + " (withheld until the give-up height)"};
    return retry(why);
  }
  if (payload->inference_id != id)
    return {Action::kVoteInvalid, "the payload is of inference " + payload->inference_id};
  if (common::to_hex(common::sha256(payload->content)) != rec->response_hash)
    return {Action::kVoteInvalid, "sha256(content) is not the record's response_hash"};
  if (common::to_hex(common::sha256(payload->prompt)) != rec->prompt_hash)
    return {Action::kVoteInvalid, "sha256(prompt) is not the record's prompt_hash"};
  auto request = replay_request(payload->prompt, payload->content);
  if (!request) return {Action::kAbstain, "the request is not re-runnable (not a JSON object, or n != 1)"};
  auto threshold = d_.chain->validation_threshold(rec->model);
  if (!threshold)
    return retry("cannot read the validation_threshold of " + rec->model + ": " + threshold.error().message);
  auto mine = d_.replayer->replay(rec->model, *request);
  if (!mine) {
    if (mine.error().code == kNoNode) return {Action::kAbstain, mine.error().message};
    if (mine.error().code == kNoNodeDuringPoc) return {Action::kRetry, mine.error().message, true};
    std::string why = "own MLNode failed: " + mine.error().message;
    if (give_up) return {Action::kAbstain, why};
    return retry(why);
  }
  auto c = compare_logprobs(payload->content, payload->logprobs, *mine, *threshold);
  switch (c.verdict) {
    case Verdict::kValid:
      return {Action::kVoteValid, c.reason};
    case Verdict::kInvalid:
      return {Action::kVoteInvalid, c.reason};
    default:
      return {Action::kAbstain, c.reason};
  }
}

bool Validator::settle(const std::string& id, const Decision& dec) {
  state::WriteSet ws;
  ws.erase(todo_key(id));
  ws.put(kDoneAtPrefix + state::encode_u64(height_) + id, "");
  ws.put(done_key(id), json{{"outcome", action_name(dec.action)}, {"reason", dec.reason}}.dump(
                           -1, ' ', false, json::error_handler_t::replace));
  common::Status st;
  if (dec.action == Action::kVoteValid || dec.action == Action::kVoteInvalid) {
    st = d_.vote(id, dec.action == Action::kVoteValid, ws);
  } else {
    st = d_.store->write(ws);
  }
  if (!st) {
    spdlog::error("inference {}: cannot record the validation outcome: {}", id, st.error().message);
    return false;
  }
  spdlog::info("inference {}: validation {}: {}", id, action_name(dec.action), dec.reason);
  if (d_.metrics && dec.action != Action::kSkip) {
    d_.metrics->counter_add(
        "dapi_inference_validations_total",
        "Sampled inferences of others this dapi validated, by result (valid, invalid, abstained)",
        {{"result", action_name(dec.action)}});
  }
  return true;
}

std::size_t Validator::prune(uint64_t below_height) {
  state::WriteSet ws;
  std::size_t n = 0;
  const std::string prefix = kDoneAtPrefix;
  for (const auto& [k, _] : d_.store->scan(prefix)) {
    if (k.size() < prefix.size() + 8) continue;
    auto h = state::decode_u64(k.substr(prefix.size(), 8));
    if (!h || *h >= below_height) break;  // key order = height order
    ws.erase(k);
    ws.erase(done_key(k.substr(prefix.size() + 8)));
    ++n;
  }
  if (!ws.empty()) {
    if (auto st = d_.store->write(ws); !st) {
      spdlog::error("cannot prune validation outcomes: {}", st.error().message);
      return 0;
    }
  }
  return n;
}

std::size_t Validator::step(std::chrono::steady_clock::time_point now) {
  std::size_t settled = 0;
  auto todo = d_.store->scan(kTodoPrefix);
  if (d_.metrics) {
    d_.metrics->gauge_set("dapi_inference_validations_pending",
                          "Sampled inferences of others this dapi still has to decide", {},
                          static_cast<double>(todo.size()));
  }
  for (const auto& [key, _] : todo) {
    if (stopping_) break;
    std::string id = key.substr(std::string(kTodoPrefix).size());
    {
      std::lock_guard lock(mu_);
      auto it = next_try_.find(id);
      if (it != next_try_.end() && it->second > now) continue;
    }
    Decision dec = decide(id, height_);
    if (dec.action == Action::kRetry || !settle(id, dec)) {
      spdlog::debug("inference {}: validation retried later: {}", id, dec.reason);
      std::lock_guard lock(mu_);
      next_try_[id] = now + (dec.after_poc ? o_.poc_retry_delay : o_.retry_delay);
      continue;
    }
    std::lock_guard lock(mu_);
    next_try_.erase(id);
    ++settled;
  }
  return settled;
}

void Validator::start() {
  thread_ = std::thread([this] {
    while (!stopping_) {
      step(std::chrono::steady_clock::now());
      std::unique_lock lock(wake_mu_);
      wake_cv_.wait_for(lock, o_.idle_wait, [this] { return stopping_.load(); });
    }
  });
}

void Validator::stop() {
  stopping_ = true;
  wake_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::vector<std::string> Validator::remembered() const {
  std::vector<std::string> out;
  for (const auto& [key, _] : d_.store->scan(kTodoPrefix))
    out.push_back(key.substr(std::string(kTodoPrefix).size()));
  return out;
}

std::optional<std::string> Validator::outcome(const std::string& id) const {
  auto v = d_.store->get(done_key(id));
  if (!v) return std::nullopt;
  return str(json::parse(*v, nullptr, false), "outcome");
}

}  // namespace api::validation
