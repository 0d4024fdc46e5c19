#include "chain/x/upgrade/upgrade.h"

#include <stdexcept>

#include "chain/types/codes.h"
#include "chain/x/gov/authority.h"
#include "chain/x/record.h"
#include "common/bytes.h"
#include "common/events.h"

namespace chain::x::upgrade {

namespace keys {
constexpr std::string_view kMLNodeVersion = "upgrade/mlnode_version";
constexpr std::string_view kPartialUpgradePrefix = "upgrade/p/";
std::string partial_upgrade(uint64_t height) {
  return std::string(kPartialUpgradePrefix) + common::be64(height);
}
}  // namespace keys

namespace {

constexpr size_t kMaxVersionNumberDigits = 9;
constexpr size_t kMaxSuffixLength = 32;

std::string in_quotes(std::string_view s) {
  return "\"" + std::string(s) + "\"";
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_suffix_char(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' || c == '-';
}

}  // namespace

common::Status validate_node_version(std::string_view version) {
  auto bad = [&](const std::string& why) {
    return invalid("node_version " + in_quotes(version) +
                   " is not a version like v3.0.8 or v3.1.0-rc1: " + why);
  };
  if (version.empty()) return bad("it is empty");
  if (version.size() > kMaxVersionLength)
    return bad("longer than " + std::to_string(kMaxVersionLength) + " characters");
  if (version[0] != 'v') return bad("it must start with 'v'");
  size_t i = 1;
  for (int part = 0; part < 3; ++part) {
    size_t start = i;
    while (i < version.size() && is_digit(version[i])) ++i;
    size_t digits = i - start;
    if (digits == 0) return bad("major, minor and patch must be numbers");
    if (digits > kMaxVersionNumberDigits) return bad("a version number has more than 9 digits");
    if (digits > 1 && version[start] == '0') return bad("a version number has a leading zero");
    if (part < 2) {
      if (i >= version.size() || version[i] != '.') return bad("expected v<major>.<minor>.<patch>");
      ++i;
    }
  }
  if (i == version.size()) return {};
  if (version[i] != '-')
    return bad("unexpected " + in_quotes(version.substr(i, 1)) + " after the patch number");
  std::string_view suffix = version.substr(i + 1);
  if (suffix.empty() || suffix.size() > kMaxSuffixLength)
    return bad("the suffix after '-' must be 1-32 characters");
  for (char c : suffix) {
    if (!is_suffix_char(c)) return bad("the suffix may only contain letters, digits, '.' and '-'");
  }
  return {};
}

common::Status validate_api_binaries_json(std::string_view text) {
  if (text.empty()) return {};
  if (text.size() > kMaxApiBinariesJsonBytes) {
    return invalid("api_binaries_json is longer than " + std::to_string(kMaxApiBinariesJsonBytes) + " bytes");
  }
  // Only well-formedness is decided here (a pure function of the bytes); the text is stored as given.
  auto parsed = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    return invalid(
        "api_binaries_json must be empty or a JSON object, e.g. "
        "{\"api_binaries\": {\"linux/amd64\": \"https://...\"}}");
  }
  return {};
}

common::Status validate_partial_upgrade(uint64_t height, std::string_view node_version,
                                        std::string_view api_binaries_json) {
  if (height == 0) return invalid("partial upgrade height must be positive");
  if (node_version.empty() && api_binaries_json.empty()) {
    return invalid("partial upgrade needs a node_version, an api_binaries_json, or both");
  }
  if (!node_version.empty()) TRY_STATUS(validate_node_version(node_version));
  return validate_api_binaries_json(api_binaries_json);
}

std::string current_mlnode_version(const store::KvReader& state) {
  auto raw = state.get(keys::kMLNodeVersion);
  if (!raw) return std::string(kDefaultMLNodeVersion);
  MLNodeVersion v;
  if (!v.ParseFromString(*raw)) throw std::logic_error("corrupt MLNodeVersion record in state");
  return v.current_mlnode_version();
}

void set_current_mlnode_version(store::KvStore& state, std::string_view version) {
  MLNodeVersion v;
  v.set_current_mlnode_version(std::string(version));
  state.set(keys::kMLNodeVersion, v.SerializeAsString());
}

std::optional<PartialUpgrade> get_partial_upgrade(const store::KvReader& state, uint64_t height) {
  auto raw = state.get(keys::partial_upgrade(height));
  if (!raw) return std::nullopt;
  PartialUpgrade u;
  if (!u.ParseFromString(*raw)) {
    throw std::logic_error("corrupt PartialUpgrade record at height " + std::to_string(height));
  }
  return u;
}

std::vector<PartialUpgrade> get_partial_upgrades(const store::KvReader& state) {
  std::vector<PartialUpgrade> out;
  state.scan_prefix(keys::kPartialUpgradePrefix, [&](std::string_view, std::string_view value) {
    PartialUpgrade u;
    if (!u.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      throw std::logic_error("corrupt PartialUpgrade record in state");
    }
    out.push_back(std::move(u));
    return true;
  });
  return out;
}

void set_partial_upgrade(store::KvStore& state, const PartialUpgrade& upgrade) {
  state.set(keys::partial_upgrade(upgrade.height()), upgrade.SerializeAsString());
}

void apply_partial_upgrade_at(app::Context& ctx) {
  auto raw = ctx.reader().get(keys::partial_upgrade(ctx.height()));
  if (!raw) return;
  PartialUpgrade u;
  std::string height = std::to_string(ctx.height());
  if (!u.ParseFromString(*raw) || u.height() != ctx.height()) {
    // Written only by this module; a mismatch is a broken invariant, not user data.
    throw std::logic_error("corrupt PartialUpgrade record at height " + height);
  }
  if (u.applied()) return;
  std::string old_version = current_mlnode_version(ctx.reader());
  u.set_applied(true);
  u.set_previous_mlnode_version(old_version);
  set_partial_upgrade(ctx.store(), u);
  ctx.emit(types::Event{common::events::kPartialUpgradeApplied,
                        {{"height", height},
                         {"node_version", u.node_version()},
                         {"api_binaries_json", u.api_binaries_json()}}});
  if (!u.node_version().empty() && u.node_version() != old_version) {
    set_current_mlnode_version(ctx.store(), u.node_version());
    ctx.emit(types::Event{common::events::kMLNodeVersionChanged,
                          {{"old", old_version}, {"new", u.node_version()}, {"height", height}}});
  }
}

nlohmann::json partial_upgrade_to_json(const PartialUpgrade& u) {
  return {{"height", u.height()},
          {"node_version", u.node_version()},
          {"api_binaries_json", u.api_binaries_json()},
          {"status", u.applied() ? "applied" : "pending"},
          {"previous_mlnode_version", u.previous_mlnode_version()},
          {"proposed_height", u.proposed_height()}};
}

common::Status UpgradeModule::init_genesis(app::Context& ctx, const nlohmann::json& app_state) {
  std::string version(kDefaultMLNodeVersion);
  nlohmann::json section = app_state.contains("upgrade") ? app_state.at("upgrade") : nlohmann::json::object();
  if (!section.is_object()) return invalid("genesis upgrade: must be an object");
  for (const auto& [key, value] : section.items()) {
    if (key != "current_mlnode_version" && key != "partial_upgrades") {
      return invalid("genesis upgrade: unknown field " + in_quotes(key));
    }
  }
  if (section.contains("current_mlnode_version")) {
    if (!section.at("current_mlnode_version").is_string())
      return invalid("genesis upgrade: current_mlnode_version must be a string");
    version = section.at("current_mlnode_version").get<std::string>();
  }
  if (auto st = validate_node_version(version); !st) return invalid("genesis upgrade: " + st.error().message);
  set_current_mlnode_version(ctx.store(), version);
  if (!section.contains("partial_upgrades")) return {};
  const auto& list = section.at("partial_upgrades");
  if (!list.is_array()) return invalid("genesis upgrade: partial_upgrades must be an array");
  for (const auto& entry : list) {
    const nlohmann::json* height =
        entry.is_object() && entry.contains("height") ? &entry.at("height") : nullptr;
    if (!height || !height->is_number_integer() ||
        (!height->is_number_unsigned() && height->get<int64_t>() <= 0)) {
      return invalid("genesis upgrade: each partial upgrade needs \"height\" (a positive integer)");
    }
    for (const auto& [key, value] : entry.items()) {
      if ((key != "height" && key != "node_version" && key != "api_binaries_json") ||
          (key != "height" && !value.is_string())) {
        return invalid("genesis upgrade: partial upgrade field " + in_quotes(key) +
                       " is unknown or not a string (fields: height, node_version, api_binaries_json)");
      }
    }
    PartialUpgrade u;
    u.set_height(height->get<uint64_t>());
    u.set_node_version(entry.value("node_version", ""));
    u.set_api_binaries_json(entry.value("api_binaries_json", ""));
    if (auto st = validate_partial_upgrade(u.height(), u.node_version(), u.api_binaries_json()); !st)
      return invalid("genesis upgrade: " + st.error().message);
    if (get_partial_upgrade(ctx.reader(), u.height())) {
      return invalid("genesis upgrade: two partial upgrades at height " + std::to_string(u.height()));
    }
    set_partial_upgrade(ctx.store(), u);
  }
  return {};
}

nlohmann::json UpgradeModule::default_genesis(std::string_view) const {
  return {{"current_mlnode_version", std::string(kDefaultMLNodeVersion)},
          {"partial_upgrades", nlohmann::json::array()}};
}

void UpgradeModule::register_messages(app::MsgRouter& router) {
  router.add_typed<MsgCreatePartialUpgrade>(
      std::string(kMsgCreatePartialUpgradeUrl),
      [](const MsgCreatePartialUpgrade& msg, const types::Address& signer,
         const std::string& hrp) -> common::Status {
        TRY_STATUS(gov::check_authority("MsgCreatePartialUpgrade", msg.authority(), signer, hrp));
        if (auto st = validate_partial_upgrade(msg.height(), msg.node_version(), msg.api_binaries_json());
            !st)
          return invalid("MsgCreatePartialUpgrade: " + st.error().message);
        return {};
      },
      [](app::Context& ctx, const MsgCreatePartialUpgrade& msg, const types::Address&) -> common::Status {
        if (msg.height() <= ctx.height()) {
          return reject(codes::kUpgradeHeightPassed,
                        "MsgCreatePartialUpgrade: upgrade height " + std::to_string(msg.height()) +
                            " is not in the future (the proposal executed at height " +
                            std::to_string(ctx.height()) +
                            "); propose a height above the end of the voting period");
        }
        // A pending record at the same height is replaced: the latest governance decision wins. Applied
        // records are in the past, so the check above already excludes them.
        bool replaced = get_partial_upgrade(ctx.reader(), msg.height()).has_value();
        PartialUpgrade u;
        u.set_height(msg.height());
        u.set_node_version(msg.node_version());
        u.set_api_binaries_json(msg.api_binaries_json());
        u.set_proposed_height(ctx.height());
        set_partial_upgrade(ctx.store(), u);
        ctx.emit(types::Event{common::events::kPartialUpgradeCreated,
                              {{"height", std::to_string(u.height())},
                               {"node_version", u.node_version()},
                               {"api_binaries_json", u.api_binaries_json()},
                               {"action", replaced ? "replaced" : "created"}}});
        return {};
      });
}

void UpgradeModule::register_queries(app::QueryRouter& router) {
  router.add("/inference/mlnode-version", [](const app::QueryRequest& req) -> common::Result<nlohmann::json> {
    nlohmann::json next = nullptr;
    for (const auto& u : get_partial_upgrades(req.state)) {
      if (!u.applied() && !u.node_version().empty()) {
        next = partial_upgrade_to_json(u);
        break;
      }
    }
    return nlohmann::json{{"mlnode_version", {{"current_mlnode_version", current_mlnode_version(req.state)}}},
                          {"next_upgrade", next}};
  });
  // ?status=pending|applied filters; records are listed by ascending height.
  router.add("/inference/partial-upgrades",
             [](const app::QueryRequest& req) -> common::Result<nlohmann::json> {
               std::string status = req.param("status");
               if (!status.empty() && status != "pending" && status != "applied") {
                 return invalid("status " + in_quotes(status) + " must be pending or applied");
               }
               nlohmann::json list = nlohmann::json::array();
               for (const auto& u : get_partial_upgrades(req.state)) {
                 if (status.empty() || (status == "applied") == u.applied())
                   list.push_back(partial_upgrade_to_json(u));
               }
               return nlohmann::json{{"partial_upgrades", list}};
             });
  router.add("/inference/partial-upgrades/{upgrade_height}",
             [](const app::QueryRequest& req) -> common::Result<nlohmann::json> {
               std::string text = req.param("upgrade_height");
               uint64_t height = 0;
               bool ok = !text.empty() && text.size() <= 19;
               for (char c : text) {
                 if (!is_digit(c)) ok = false;
               }
               if (!ok) return invalid("height " + in_quotes(text) + " must be a non-negative integer");
               height = std::stoull(text);
               auto u = get_partial_upgrade(req.state, height);
               if (!u) {
                 return common::make_error(codes::kNotFound,
                                           "no partial upgrade at height " + std::to_string(height));
               }
               return nlohmann::json{{"partial_upgrade", partial_upgrade_to_json(*u)}};
             });
}

void UpgradeModule::end_block(app::Context& ctx, std::vector<app::ValidatorUpdate>&) {
  apply_partial_upgrade_at(ctx);
}

}  // namespace chain::x::upgrade
