#include "api/mlnode/management_messages.h"

#include <array>
#include <utility>

#include <nlohmann/json.hpp>

#include "api/mlnode/field_reader.h"

namespace api::mlnode {
namespace {

using nlohmann::json;

constexpr std::array<std::pair<NodeState, const char*>, 3> kNodeStates{
    {{NodeState::kStopped, "STOPPED"}, {NodeState::kInference, "INFERENCE"}, {NodeState::kPow, "POW"}}};
constexpr std::array<std::pair<PowPhase, const char*>, 4> kPowPhases{{{PowPhase::kNotLoaded, "NOT_LOADED"},
                                                                      {PowPhase::kIdle, "IDLE"},
                                                                      {PowPhase::kGenerating, "GENERATING"},
                                                                      {PowPhase::kValidating, "VALIDATING"}}};

template <typename Enum, std::size_t N>
Enum read_enum(FieldReader& r, const char* name, const std::array<std::pair<Enum, const char*>, N>& table) {
  const std::string text = r.string(name);
  std::string expected;
  for (const auto& [value, label] : table) {
    if (text == label) return value;
    expected += expected.empty() ? label : std::string(", ") + label;
  }
  if (!r.error()) r.invalid(name, "is \"" + text + "\"; expected one of " + expected);
  return table[0].first;
}

template <typename Enum, std::size_t N>
std::string label_of(Enum value, const std::array<std::pair<Enum, const char*>, N>& table) {
  for (const auto& [v, label] : table) {
    if (v == value) return label;
  }
  return "UNKNOWN";
}

// Command answers carry {"status": "OK"}; the reference MLNode answers 200 {"status": "ERROR"} on failure.
void require_ok_status(FieldReader& r) {
  const std::string status = r.string("status");
  if (!r.error() && status != "OK") r.invalid("status", "is \"" + status + "\", expected \"OK\"");
}

template <typename T>
Result<T> finish(const FieldReader& r, T value) {
  if (r.error()) return *r.error();
  return value;
}

PowStatus read_pow_status(FieldReader& r) {
  PowStatus s;
  s.status = read_enum(r, "status", kPowPhases);
  s.is_model_initialized = r.boolean("is_model_initialized");
  s.nonces_per_second = r.number("nonces_per_second");
  s.nonces_computed = r.count("nonces_computed");
  s.hits = r.count("hits");
  s.node_id = r.optional_integer("node_id");
  s.block_height = r.optional_integer("block_height");
  return s;
}

template <typename T>
void put_optional(json& j, const char* name, const std::optional<T>& value) {
  if (value) j[name] = *value;
}

json to_json(const PocModelParams& p) {
  json j = json::object();
  put_optional(j, "dim", p.dim);
  put_optional(j, "n_layers", p.n_layers);
  put_optional(j, "n_heads", p.n_heads);
  put_optional(j, "ffn_dim", p.ffn_dim);
  put_optional(j, "vocab_size", p.vocab_size);
  put_optional(j, "seq_len", p.seq_len);
  put_optional(j, "norm_eps", p.norm_eps);
  return j;
}

}  // namespace

std::string to_string(NodeState state) {
  return label_of(state, kNodeStates);
}
std::string to_string(PowPhase phase) {
  return label_of(phase, kPowPhases);
}

json to_json(const InferenceUpRequest& r) {
  return {{"model", r.model}, {"args", r.args}, {"additional_args", r.additional_args}};
}

json to_json(const PowInitRequest& r) {
  json j = {{"node_id", r.node_id},           {"node_count", r.node_count}, {"block_hash", r.block_hash},
            {"block_height", r.block_height}, {"public_key", r.public_key}, {"url", r.url}};
  put_optional(j, "batch_size", r.batch_size);
  put_optional(j, "r_target", r.r_target);
  put_optional(j, "fraud_threshold", r.fraud_threshold);
  put_optional(j, "dist_tolerance", r.dist_tolerance);
  if (r.params) j["params"] = to_json(*r.params);
  return j;
}

json to_json(const ProofBatch& b) {
  json j = {{"public_key", b.public_key},
            {"block_hash", b.block_hash},
            {"block_height", b.block_height},
            {"nonces", b.nonces},
            {"dist", b.dist}};
  put_optional(j, "node_id", b.node_id);
  return j;
}

Result<StateResponse> parse_state_response(const json& j, const std::string& route) {
  FieldReader r(j, route);
  StateResponse s;
  s.state = read_enum(r, "state", kNodeStates);
  s.version = r.string("version");
  s.backend = r.string("backend");
  s.model = r.optional_string("model");
  return finish(r, std::move(s));
}

Result<StopResponse> parse_stop_response(const json& j, const std::string& route) {
  FieldReader r(j, route);
  require_ok_status(r);
  StopResponse s;
  s.previous_state = read_enum(r, "previous_state", kNodeStates);
  s.version = r.string("version");
  return finish(r, std::move(s));
}

Result<InferenceUpResponse> parse_inference_up_response(const json& j, const std::string& route) {
  FieldReader r(j, route);
  require_ok_status(r);
  InferenceUpResponse s;
  s.model = r.string("model");
  s.already_loaded = j.contains("already_loaded") && r.boolean("already_loaded");
  return finish(r, std::move(s));
}

Result<PowStatus> parse_pow_status(const json& j, const std::string& route) {
  FieldReader r(j, route);
  PowStatus s = read_pow_status(r);
  return finish(r, std::move(s));
}

Result<PowStatus> parse_pow_init_response(const json& j, const std::string& route) {
  FieldReader r(j, route);
  require_ok_status(r);
  FieldReader pow = r.object("pow_status");
  PowStatus s = read_pow_status(pow);
  return finish(r, std::move(s));
}

Result<PowValidateResponse> parse_pow_validate_response(const json& j, const std::string& route) {
  FieldReader r(j, route);
  require_ok_status(r);
  PowValidateResponse s;
  s.queued_nonces = r.count("queued_nonces");
  return finish(r, std::move(s));
}

}  // namespace api::mlnode
