// The MLNode version on chain and partial upgrades (ARCHITECTURE §6, §8; upgrade seed; docs/upgrade.md).
// Governance schedules `PartialUpgrade {height, node_version, api_binaries_json}`; at EndBlock of `height` the
// chain's `MLNodeVersion.current_mlnode_version` becomes `node_version` and the block carries the event
// `mlnode_version_changed {old, new, height}`. Applied records stay in state as the version history.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chain/app/module.h"
#include "inference/upgrade.pb.h"

namespace chain::x::upgrade {

using PartialUpgrade = inference::inference::PartialUpgrade;
using MLNodeVersion = inference::inference::MLNodeVersion;
using MsgCreatePartialUpgrade = inference::inference::MsgCreatePartialUpgrade;

inline constexpr std::string_view kMsgCreatePartialUpgradeUrl = "/inference.inference.MsgCreatePartialUpgrade";
inline constexpr std::string_view kDefaultMLNodeVersion = "v3.0.8";
inline constexpr size_t kMaxVersionLength = 64;
inline constexpr size_t kMaxApiBinariesJsonBytes = 16384;

// "v<major>.<minor>.<patch>[-suffix]": numbers of 1-9 digits without leading zeros, suffix of 1-32 characters
// from [A-Za-z0-9.-]. The version becomes a URL path segment (/<version>/...), hence the narrow alphabet.
common::Status validate_node_version(std::string_view version);
// Empty, or a JSON object of at most kMaxApiBinariesJsonBytes.
common::Status validate_api_binaries_json(std::string_view text);
// Stateless check of the message fields (authority aside): height > 0, version/JSON as above, and at least
// one of node_version / api_binaries_json non-empty.
common::Status validate_partial_upgrade(uint64_t height, std::string_view node_version,
                                        std::string_view api_binaries_json);

std::string current_mlnode_version(const store::KvReader& state);
void set_current_mlnode_version(store::KvStore& state, std::string_view version);

std::optional<PartialUpgrade> get_partial_upgrade(const store::KvReader& state, uint64_t height);
// Every record (pending and applied), ascending height.
std::vector<PartialUpgrade> get_partial_upgrades(const store::KvReader& state);
void set_partial_upgrade(store::KvStore& state, const PartialUpgrade& upgrade);

// Applies the record scheduled at the block's height, if any and still pending (EndBlock). Records were
// validated when written, so nothing here depends on user input; an unreadable record is a broken invariant
// and halts the node (std::logic_error) rather than diverging.
void apply_partial_upgrade_at(app::Context& ctx);

nlohmann::json partial_upgrade_to_json(const PartialUpgrade& u);

class UpgradeModule final : public app::Module {
 public:
  std::string_view name() const override { return "upgrade"; }
  common::Status init_genesis(app::Context& ctx, const nlohmann::json& app_state) override;
  nlohmann::json default_genesis(std::string_view preset) const override;
  void register_messages(app::MsgRouter& router) override;
  void register_queries(app::QueryRouter& router) override;
  void end_block(app::Context& ctx, std::vector<app::ValidatorUpdate>& validator_updates) override;
};

}  // namespace chain::x::upgrade
