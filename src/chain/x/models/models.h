// The governance model registry (ARCHITECTURE §6, seed section 1): models change only through governance and
// take effect in inference when the next epoch group snapshots them (§7.2).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chain/app/module.h"
#include "inference/models.pb.h"

namespace chain::x::models {

using Model = inference::inference::Model;
using Decimal = inference::inference::Decimal;

inline constexpr std::string_view kMsgRegisterModelUrl = "/inference.inference.MsgRegisterModel";
inline constexpr std::string_view kMsgRemoveModelUrl = "/inference.inference.MsgRemoveModel";
// `proposed_by` of models written by genesis.
inline constexpr std::string_view kGenesisProposer = "genesis";

// Every registered model, sorted by id.
std::vector<Model> get_governance_models(const store::KvReader& state);
std::optional<Model> get_governance_model(const store::KvReader& state, std::string_view id);
bool is_valid_governance_model(const store::KvReader& state, std::string_view id);
void set_model(store::KvStore& state, const Model& model);
// Returns false when no model has this id.
bool remove_model(store::KvStore& state, std::string_view id);

// Id syntax: 1-128 characters of [A-Za-z0-9._-/], '/'-separated non-empty segments other than "." and "..".
common::Status validate_model_id(std::string_view id);
// A model id taken from a URL path: percent-decodes ("Qwen%2FQwQ-32B" -> "Qwen/QwQ-32B"); ids never contain
// '%'.
std::string decode_model_id(std::string_view path_segment);
// Every field (ranges in models.cpp); `proposed_by` is "genesis" or a bech32 address with `hrp`.
common::Status validate_model(const Model& model, const std::string& hrp);

// "0.98" -> {98, -2}. Non-negative, at most 18 fractional digits.
common::Result<Decimal> parse_decimal(std::string_view text);
std::string format_decimal(const Decimal& d);

// JSON shape (queries, genesis, CLI): snake_case fields, validation_threshold as {"value": 98, "exponent":
// -2} (a decimal string such as "0.98" is accepted on input).
nlohmann::json model_to_json(const Model& model);
common::Result<Model> model_from_json(const nlohmann::json& j);

// The models a fresh genesis of `preset` ships with (every preset: Qwen/Qwen2.5-7B-Instruct and
// Qwen/QwQ-32B; "localnet" adds HuggingFaceTB/SmolLM2-135M-Instruct, a real model for a CPU, issue 15).
std::vector<Model> genesis_models(std::string_view preset);

class ModelsModule final : public app::Module {
 public:
  std::string_view name() const override { return "models"; }
  common::Status init_genesis(app::Context& ctx, const nlohmann::json& app_state) override;
  nlohmann::json default_genesis(std::string_view preset) const override;
  void register_messages(app::MsgRouter& router) override;
  void register_queries(app::QueryRouter& router) override;
};

}  // namespace chain::x::models
