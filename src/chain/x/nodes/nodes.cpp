#include "chain/x/nodes/nodes.h"

#include <map>
#include <set>

#include "chain/types/codes.h"
#include "chain/x/models/models.h"
#include "chain/x/record.h"
#include "common/bytes.h"
#include "common/events.h"
#include "common/json_text.h"
#include "common/participant_key.h"

namespace chain::x::nodes {

namespace keys {
constexpr std::string_view kParticipantPrefix = "nodes/participant/";
constexpr std::string_view kValidatorKeyPrefix = "nodes/valkey/";
constexpr std::string_view kNodePrefix = "nodes/hw/";
constexpr std::string_view kByModelPrefix = "nodes/by_model/";
std::string participant(const types::Address& a) {
  return std::string(kParticipantPrefix) + a;
}
// Index: validator key -> participant address (a consensus key belongs to one participant).
std::string validator_key(std::string_view key) {
  return std::string(kValidatorKeyPrefix) + std::string(key);
}
// One record per MLNode; the address is 20 bytes, so the local id needs no separator.
std::string node_prefix(const types::Address& a) {
  return std::string(kNodePrefix) + a;
}
std::string node(const types::Address& a, std::string_view local_id) {
  return node_prefix(a) + std::string(local_id);
}
// Index: model id, NUL (never part of an id), address, local id -> "".
std::string by_model_prefix(std::string_view model_id) {
  return std::string(kByModelPrefix) + std::string(model_id) + std::string(1, '\0');
}
std::string by_model(std::string_view model_id, const types::Address& a, std::string_view local_id) {
  return by_model_prefix(model_id) + a + std::string(local_id);
}
}  // namespace keys

namespace {

constexpr size_t kMaxLocalIdLength = 64;
constexpr size_t kMaxModelIdLength = 128;
constexpr size_t kMaxHardwareTypeLength = 128;
constexpr uint32_t kMaxHardwareCount = 1024;
constexpr size_t kMaxHostLength = 253;
constexpr size_t kMaxUrlLength = 256;
constexpr uint32_t kMaxPort = 65535;

std::string in_quotes(std::string_view s) {
  return "\"" + std::string(s) + "\"";
}
bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

std::string join_quoted(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ", ") + in_quotes(s);
  return out;
}

common::Status validate_local_id(std::string_view id) {
  if (id.empty() || id.size() > kMaxLocalIdLength) {
    return invalid("node local_id " + in_quotes(id) + " must be 1-" + std::to_string(kMaxLocalIdLength) +
                   " characters");
  }
  for (char c : id) {
    if (!is_alnum(c) && c != '.' && c != '_' && c != '-') {
      return invalid("node local_id " + in_quotes(id) + " may only contain letters, digits, '.', '_', '-'");
    }
  }
  return {};
}

common::Status validate_url(const std::string& url) {
  auto bad = [&](const std::string& why) { return invalid("participant url " + in_quotes(url) + " " + why); };
  if (url.size() > kMaxUrlLength)
    return bad("is longer than " + std::to_string(kMaxUrlLength) + " characters");
  size_t host_start = 0;
  if (url.rfind("http://", 0) == 0) {
    host_start = 7;
  } else if (url.rfind("https://", 0) == 0) {
    host_start = 8;
  } else {
    return bad("must start with http:// or https://");
  }
  if (host_start >= url.size() || url[host_start] == '/' || url[host_start] == ':') return bad("has no host");
  for (char c : url) {
    if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
      return bad("must be printable ASCII without spaces");
    }
  }
  return {};
}

void erase_node(store::KvStore& state, const types::Address& participant, const HardwareNode& node) {
  for (const auto& model : node.models()) state.erase(keys::by_model(model, participant, node.local_id()));
  state.erase(keys::node(participant, node.local_id()));
}

void put_node(store::KvStore& state, const types::Address& participant, const HardwareNode& node) {
  state.set(keys::node(participant, node.local_id()), node.SerializeAsString());
  for (const auto& model : node.models()) state.set(keys::by_model(model, participant, node.local_id()), "");
}

std::string short_enum_name(const std::string& full, std::string_view prefix) {
  return full.rfind(prefix, 0) == 0 ? full.substr(prefix.size()) : full;
}

constexpr std::string_view kNodeStatusPrefix = "HARDWARE_NODE_STATUS_";
constexpr std::string_view kParticipantStatusPrefix = "PARTICIPANT_STATUS_";

// `genesis`: participants declared in genesis are trusted (every validator agreed on the file) and carry no
// key proof; every transaction must.
common::Status register_participant(app::Context& ctx, const types::Address& signer,
                                    const MsgSubmitNewParticipant& msg, bool genesis = false) {
  auto& st = ctx.store();
  if (!genesis && !common::participant_key::verify(msg.validator_public_key(), ctx.block().chain_id,
                                                   msg.creator(), msg.validator_key_signature())) {
    return common::make_error(
        codes::kUnauthorized,
        "validator_key_signature does not verify: it must be the ed25519 signature by validator key " +
            common::to_base64(msg.validator_public_key()) +
            " over \"inference/participant-validator-key\" 0x00 \"" + ctx.block().chain_id + "\" 0x00 \"" +
            msg.creator() + "\" (common/participant_key.h); only the holder of a validator key may bind it");
  }
  if (auto owner = st.get(keys::validator_key(msg.validator_public_key())); owner && *owner != signer) {
    return reject(codes::kValidatorKeyTaken,
                  "validator key " + common::to_base64(msg.validator_public_key()) +
                      " is already registered by participant " + types::to_bech32(ctx.hrp(), *owner));
  }
  auto existing = get_participant(st, signer);
  Participant p;
  if (existing) {
    p = *existing;
    st.erase(keys::validator_key(p.validator_public_key()));
  } else {
    p.set_address(signer);
    p.set_status(inference::inference::PARTICIPANT_STATUS_ACTIVE);
    p.set_join_height(ctx.height());
  }
  p.set_url(msg.url());
  p.set_validator_public_key(msg.validator_public_key());
  set_participant(st, p);
  st.set(keys::validator_key(p.validator_public_key()), signer);
  ctx.emit(types::Event{common::events::kParticipantRegistered,
                        {{"participant", types::to_bech32(ctx.hrp(), signer)},
                         {"url", msg.url()},
                         {"action", existing ? "updated" : "created"}}});
  return {};
}

common::Status check_new_participant(const MsgSubmitNewParticipant& msg, const types::Address& signer,
                                     const std::string& hrp) {
  auto creator = types::parse_address(hrp, msg.creator());
  if (!creator) return creator.error();
  if (*creator != signer) {
    return common::make_error(codes::kUnauthorized, "creator " + msg.creator() + " is not the signer " +
                                                        types::to_bech32(hrp, signer));
  }
  TRY_STATUS(validate_url(msg.url()));
  if (msg.validator_public_key().size() != 32) {
    return common::make_error(codes::kInvalidPubKey,
                              "validator_public_key must be a 32-byte ed25519 key, got " +
                                  std::to_string(msg.validator_public_key().size()) + " bytes");
  }
  if (msg.validator_key_signature().size() > 64) {
    return invalid("validator_key_signature must be a 64-byte ed25519 signature, got " +
                   std::to_string(msg.validator_key_signature().size()) + " bytes");
  }
  return {};
}

common::Status check_hardware_diff(const MsgSubmitHardwareDiff& msg, const types::Address& signer,
                                   const std::string& hrp) {
  auto creator = types::parse_address(hrp, msg.creator());
  if (!creator) return creator.error();
  if (*creator != signer) {
    return common::make_error(codes::kUnauthorized, "creator " + msg.creator() + " is not the signer " +
                                                        types::to_bech32(hrp, signer) +
                                                        ": a participant can only change its own nodes");
  }
  if (msg.new_or_modified_size() == 0 && msg.removed_size() == 0) {
    return invalid("empty hardware diff: nothing to add, modify or remove");
  }
  if (static_cast<size_t>(msg.new_or_modified_size()) > kMaxNodesPerParticipant ||
      static_cast<size_t>(msg.removed_size()) > kMaxNodesPerParticipant) {
    return invalid("hardware diff too large: at most " + std::to_string(kMaxNodesPerParticipant) +
                   " nodes per list");
  }
  std::set<std::string> changed;
  for (const auto& node : msg.new_or_modified()) {
    TRY_STATUS(validate_hardware_node(node));
    if (!changed.insert(node.local_id()).second) {
      return invalid("node " + in_quotes(node.local_id()) + " appears twice in new_or_modified");
    }
  }
  std::set<std::string> removed;
  for (const auto& id : msg.removed()) {
    TRY_STATUS(validate_local_id(id));
    if (!removed.insert(id).second) return invalid("node " + in_quotes(id) + " appears twice in removed");
    if (changed.count(id))
      return invalid("node " + in_quotes(id) + " is both in new_or_modified and in removed");
  }
  return {};
}

}  // namespace

std::optional<Participant> get_participant(const store::KvReader& state, const types::Address& address) {
  auto raw = state.get(keys::participant(address));
  if (!raw) return std::nullopt;
  return parse_record<Participant>(*raw, "participant");
}

std::vector<Participant> get_participants(const store::KvReader& state) {
  std::vector<Participant> out;
  state.scan_prefix(keys::kParticipantPrefix, [&](std::string_view, std::string_view value) {
    out.push_back(parse_record<Participant>(value, "participant"));
    return true;
  });
  return out;
}

void set_participant(store::KvStore& state, const Participant& participant) {
  state.set(keys::participant(participant.address()), participant.SerializeAsString());
}

std::vector<HardwareNode> get_hardware_nodes(const store::KvReader& state,
                                             const types::Address& participant) {
  std::vector<HardwareNode> out;
  state.scan_prefix(keys::node_prefix(participant), [&](std::string_view, std::string_view value) {
    out.push_back(parse_record<HardwareNode>(value, "hardware node"));
    return true;
  });
  return out;
}

namespace {

// Visits the records under `prefix` + address of each address in `sorted` with one range scan:
// fn(index in sorted, value).
template <typename Fn>
void scan_for_addresses(const store::KvReader& state, std::string_view prefix,
                        std::span<const types::Address> sorted, Fn&& fn) {
  if (sorted.empty()) return;
  const std::string first = std::string(prefix) + sorted.front();
  const std::string end = store::prefix_end(std::string(prefix) + sorted.back());
  size_t i = 0;
  state.scan(first, end, [&](std::string_view key, std::string_view value) {
    auto address = key.substr(prefix.size(), types::kAddressLength);
    while (i < sorted.size() && std::string_view(sorted[i]) < address) ++i;
    if (i == sorted.size()) return false;
    if (std::string_view(sorted[i]) == address) fn(i, value);
    return true;
  });
}

}  // namespace

std::vector<std::optional<Participant>> get_participants(const store::KvReader& state,
                                                         std::span<const types::Address> sorted) {
  std::vector<std::optional<Participant>> out(sorted.size());
  scan_for_addresses(state, keys::kParticipantPrefix, sorted, [&](size_t i, std::string_view value) {
    out[i] = parse_record<Participant>(value, "participant");
  });
  return out;
}

void for_each_hardware_node(const store::KvReader& state, std::span<const types::Address> sorted,
                            const std::function<void(size_t, std::string_view)>& fn) {
  scan_for_addresses(state, keys::kNodePrefix, sorted, fn);
}

std::optional<HardwareNode> get_hardware_node(const store::KvReader& state, const types::Address& participant,
                                              std::string_view local_id) {
  auto raw = state.get(keys::node(participant, local_id));
  if (!raw) return std::nullopt;
  return parse_record<HardwareNode>(*raw, "hardware node");
}

std::vector<NodeForModel> get_nodes_for_model(const store::KvReader& state, std::string_view model_id) {
  std::vector<NodeForModel> out;
  if (model_id.empty() || model_id.find('\0') != std::string_view::npos) return out;
  std::string prefix = keys::by_model_prefix(model_id);
  std::vector<std::pair<types::Address, std::string>> refs;
  state.scan_prefix(prefix, [&](std::string_view key, std::string_view) {
    std::string_view rest = key.substr(prefix.size());
    if (rest.size() <= 20) throw std::logic_error("corrupt nodes-by-model index key");
    refs.emplace_back(std::string(rest.substr(0, 20)), std::string(rest.substr(20)));
    return true;
  });
  for (auto& [address, local_id] : refs) {
    auto node = get_hardware_node(state, address, local_id);
    if (!node) throw std::logic_error("nodes-by-model index names a missing node " + local_id);
    out.push_back({address, std::move(*node)});
  }
  return out;
}

common::Status validate_hardware_node(const HardwareNode& node) {
  TRY_STATUS(validate_local_id(node.local_id()));
  auto fail = [&](const std::string& what) {
    return invalid("node " + in_quotes(node.local_id()) + ": " + what);
  };
  if (!inference::inference::HardwareNodeStatus_IsValid(node.status())) {
    return fail("unknown status " + std::to_string(node.status()));
  }
  if (static_cast<size_t>(node.models_size()) > kMaxModelsPerNode) {
    return fail("more than " + std::to_string(kMaxModelsPerNode) + " models");
  }
  std::set<std::string> models;
  for (const auto& m : node.models()) {
    if (m.empty() || m.size() > kMaxModelIdLength || m.find('\0') != std::string::npos) {
      return fail("model id " + in_quotes(m) + " is empty or too long");
    }
    if (!models.insert(m).second) return fail("model " + in_quotes(m) + " is listed twice");
  }
  if (static_cast<size_t>(node.hardware_size()) > kMaxHardwarePerNode) {
    return fail("more than " + std::to_string(kMaxHardwarePerNode) + " hardware entries");
  }
  for (const auto& hw : node.hardware()) {
    if (hw.type().empty() || hw.type().size() > kMaxHardwareTypeLength) {
      return fail("hardware type must be 1-" + std::to_string(kMaxHardwareTypeLength) + " characters");
    }
    for (char c : hw.type()) {
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
        return fail("hardware type has a control character");
    }
    if (hw.count() == 0 || hw.count() > kMaxHardwareCount) {
      return fail("hardware count must be in [1, " + std::to_string(kMaxHardwareCount) + "]");
    }
  }
  if (node.host().empty() || node.host().size() > kMaxHostLength) {
    return fail("host must be 1-" + std::to_string(kMaxHostLength) + " characters");
  }
  for (char c : node.host()) {
    if (!is_alnum(c) && c != '.' && c != '-' && c != '_' && c != ':' && c != '[' && c != ']') {
      return fail("host " + in_quotes(node.host()) +
                  " must be a host name or IP address (no scheme, path or spaces)");
    }
  }
  if (node.inference_port() == 0 || node.inference_port() > kMaxPort)
    return fail("inference_port must be in [1, 65535]");
  if (node.poc_port() == 0 || node.poc_port() > kMaxPort) return fail("poc_port must be in [1, 65535]");
  return {};
}

common::Status apply_hardware_diff(app::Context& ctx, const types::Address& participant,
                                   const MsgSubmitHardwareDiff& diff) {
  auto& st = ctx.store();
  std::string who = types::to_bech32(ctx.hrp(), participant);
  if (!get_participant(st, participant)) {
    return common::make_error(
        codes::kNotFound, "participant " + who + " is not registered; submit MsgSubmitNewParticipant first");
  }
  // Every unknown model, with every node naming it, in sorted order.
  std::map<std::string, std::vector<std::string>> unknown;
  for (const auto& node : diff.new_or_modified()) {
    for (const auto& model : node.models()) {
      if (!models::is_valid_governance_model(st, model)) unknown[model].push_back(node.local_id());
    }
  }
  if (!unknown.empty()) {
    std::string list;
    for (const auto& [model, nodes] : unknown) {
      list += (list.empty() ? "" : "; ") + std::string("unknown model ") + in_quotes(model) +
              (nodes.size() == 1 ? " in node " : " in nodes ") + join_quoted(nodes);
    }
    std::string known;
    for (const auto& m : models::get_governance_models(st)) known += (known.empty() ? "" : ", ") + m.id();
    return reject(codes::kUnknownModel, "hardware diff rejected: " + list +
                                            "; registered models: " + (known.empty() ? "none" : known));
  }
  std::map<std::string, HardwareNode> existing;
  for (auto& node : get_hardware_nodes(st, participant)) existing.emplace(node.local_id(), std::move(node));
  std::vector<std::string> missing;
  for (const auto& id : diff.removed()) {
    if (!existing.count(id)) missing.push_back(id);
  }
  if (!missing.empty()) {
    return common::make_error(codes::kNotFound, "hardware diff rejected: participant " + who +
                                                    " has no node " + join_quoted(missing) + " to remove");
  }
  size_t count = existing.size() - static_cast<size_t>(diff.removed_size());
  for (const auto& node : diff.new_or_modified()) {
    if (!existing.count(node.local_id())) ++count;
  }
  if (count > kMaxNodesPerParticipant) {
    return reject(codes::kTooManyNodes, "hardware diff rejected: participant " + who + " would have " +
                                            std::to_string(count) + " nodes; the limit is " +
                                            std::to_string(kMaxNodesPerParticipant));
  }
  std::string removed_ids, changed_ids;
  for (const auto& id : diff.removed()) {
    erase_node(st, participant, existing.at(id));
    removed_ids += (removed_ids.empty() ? "" : ",") + id;
  }
  // The order nodes were added (pre-PoC selection, §7.5): a new node takes the participant's next sequence
  // number, a modified one keeps its own; whatever the sender put in added_seq is ignored.
  auto owner = *get_participant(st, participant);
  const uint64_t added_before = owner.nodes_added();
  for (const auto& given : diff.new_or_modified()) {
    HardwareNode node = given;
    if (auto it = existing.find(node.local_id()); it != existing.end()) {
      node.set_added_seq(it->second.added_seq());
      erase_node(st, participant, it->second);
    } else {
      node.set_added_seq(owner.nodes_added());
      owner.set_nodes_added(owner.nodes_added() + 1);
    }
    put_node(st, participant, node);
    changed_ids += (changed_ids.empty() ? "" : ",") + node.local_id();
  }
  if (owner.nodes_added() != added_before) set_participant(st, owner);
  ctx.emit(types::Event{common::events::kHardwareDiff,
                        {{"participant", who}, {"new_or_modified", changed_ids}, {"removed", removed_ids}}});
  return {};
}

nlohmann::json participant_to_json(const Participant& p, const std::string& hrp) {
  return {{"address", types::to_bech32(hrp, p.address())},
          {"url", p.url()},
          {"validator_public_key", common::to_base64(p.validator_public_key())},
          {"status", short_enum_name(inference::inference::ParticipantStatus_Name(p.status()),
                                     kParticipantStatusPrefix)},
          {"join_height", p.join_height()}};
}

nlohmann::json hardware_node_to_json(const HardwareNode& node) {
  nlohmann::json hardware = nlohmann::json::array();
  for (const auto& hw : node.hardware()) hardware.push_back({{"type", hw.type()}, {"count", hw.count()}});
  return {{"local_id", node.local_id()},
          {"status",
           short_enum_name(inference::inference::HardwareNodeStatus_Name(node.status()), kNodeStatusPrefix)},
          {"models", nlohmann::json(std::vector<std::string>(node.models().begin(), node.models().end()))},
          {"hardware", hardware},
          {"host", node.host()},
          {"inference_port", node.inference_port()},
          {"poc_port", node.poc_port()}};
}

common::Result<HardwareNode> hardware_node_from_json(const nlohmann::json& j) {
  if (!j.is_object()) return invalid("a hardware node must be a JSON object");
  HardwareNode node;
  auto port = [](const nlohmann::json& v, const std::string& field) -> common::Result<uint32_t> {
    if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > int64_t{kMaxPort}) {
      return invalid("node field " + field + " must be a port number");
    }
    return static_cast<uint32_t>(v.get<int64_t>());
  };
  for (const auto& [key, value] : j.items()) {
    if (key == "local_id" || key == "host") {
      if (!value.is_string()) return invalid("node field " + key + " must be a string");
      if (key == "local_id") node.set_local_id(value.get<std::string>());
      if (key == "host") node.set_host(value.get<std::string>());
    } else if (key == "status") {
      if (!value.is_string()) return invalid("node field status must be a string such as \"INFERENCE\"");
      std::string name = value.get<std::string>();
      if (name.rfind(kNodeStatusPrefix, 0) != 0) name = std::string(kNodeStatusPrefix) + name;
      inference::inference::HardwareNodeStatus status;
      if (!inference::inference::HardwareNodeStatus_Parse(name, &status)) {
        return invalid("unknown node status " + in_quotes(value.get<std::string>()) +
                       "; one of UNKNOWN, INFERENCE, POC, TRAINING, STOPPED, FAILED");
      }
      node.set_status(status);
    } else if (key == "models") {
      if (!value.is_array()) return invalid("node field models must be an array of model ids");
      for (const auto& m : value) {
        if (!m.is_string()) return invalid("node field models must be an array of model ids");
        node.add_models(m.get<std::string>());
      }
    } else if (key == "hardware") {
      if (!value.is_array()) return invalid("node field hardware must be an array of {\"type\", \"count\"}");
      for (const auto& hw : value) {
        if (!hw.is_object() || !hw.contains("type") || !hw.at("type").is_string() ||
            !hw.value("count", nlohmann::json()).is_number_integer() || hw.at("count").get<int64_t>() < 0 ||
            hw.at("count").get<int64_t>() > int64_t{UINT32_MAX}) {
          return invalid("node field hardware must be an array of {\"type\": string, \"count\": integer}");
        }
        auto* h = node.add_hardware();
        h->set_type(hw.at("type").get<std::string>());
        h->set_count(static_cast<uint32_t>(hw.at("count").get<int64_t>()));
      }
    } else if (key == "inference_port" || key == "poc_port") {
      auto p = port(value, key);
      if (!p) return p.error();
      if (key == "inference_port") node.set_inference_port(*p);
      if (key == "poc_port") node.set_poc_port(*p);
    } else {
      return invalid("unknown node field " + in_quotes(key));
    }
  }
  return node;
}

common::Result<MsgSubmitHardwareDiff> hardware_diff_from_json(const nlohmann::json& j) {
  if (!j.is_object())
    return invalid("a hardware diff must be a JSON object with new_or_modified and removed");
  MsgSubmitHardwareDiff diff;
  for (const auto& [key, value] : j.items()) {
    if (key == "new_or_modified") {
      if (!value.is_array()) return invalid("new_or_modified must be an array of nodes");
      for (const auto& n : value) {
        auto node = hardware_node_from_json(n);
        if (!node) return node.error();
        *diff.add_new_or_modified() = std::move(*node);
      }
    } else if (key == "removed") {
      if (!value.is_array()) return invalid("removed must be an array of local ids");
      for (const auto& r : value) {
        if (r.is_string()) {
          diff.add_removed(r.get<std::string>());
        } else if (r.is_object() && r.contains("local_id") && r.at("local_id").is_string()) {
          diff.add_removed(r.at("local_id").get<std::string>());
        } else {
          return invalid("removed must be an array of local ids");
        }
      }
    } else {
      return invalid("unknown hardware diff field " + in_quotes(key) +
                     "; expected new_or_modified and removed");
    }
  }
  return diff;
}

common::Status NodesModule::init_genesis(app::Context& ctx, const nlohmann::json& app_state) {
  if (!app_state.contains("nodes")) return {};
  const auto& section = app_state.at("nodes");
  if (auto e = common::unknown_key_error(section, {"participants", "hardware_nodes"}, "app_state.nodes")) {
    return invalid(*e);
  }
  for (const auto& p : section.value("participants", nlohmann::json::array())) {
    if (auto e = common::unknown_key_error(p, {"address", "url", "validator_public_key"},
                                           "app_state.nodes.participants[]")) {
      return invalid(*e);
    }
    MsgSubmitNewParticipant msg;
    msg.set_creator(p.at("address").get<std::string>());
    msg.set_url(p.at("url").get<std::string>());
    auto key = common::from_base64(p.at("validator_public_key").get<std::string>());
    if (!key) return invalid("genesis participant " + msg.creator() + ": validator_public_key is not base64");
    msg.set_validator_public_key(*key);
    auto address = types::parse_address(ctx.hrp(), msg.creator());
    if (!address) return invalid("genesis participants: " + address.error().message);
    if (auto st = check_new_participant(msg, *address, ctx.hrp()); !st) {
      return invalid("genesis participant " + msg.creator() + ": " + st.error().message);
    }
    if (auto st = register_participant(ctx, *address, msg, /*genesis=*/true); !st) {
      return invalid("genesis participant " + msg.creator() + ": " + st.error().message);
    }
  }
  for (const auto& entry : section.value("hardware_nodes", nlohmann::json::array())) {
    if (auto e =
            common::unknown_key_error(entry, {"participant", "nodes"}, "app_state.nodes.hardware_nodes[]")) {
      return invalid(*e);
    }
    std::string who = entry.at("participant").get<std::string>();
    auto address = types::parse_address(ctx.hrp(), who);
    if (!address) return invalid("genesis hardware_nodes: " + address.error().message);
    auto diff = hardware_diff_from_json({{"new_or_modified", entry.at("nodes")}});
    if (!diff) return invalid("genesis hardware_nodes of " + who + ": " + diff.error().message);
    diff->set_creator(who);
    if (auto st = check_hardware_diff(*diff, *address, ctx.hrp()); !st) {
      return invalid("genesis hardware_nodes of " + who + ": " + st.error().message);
    }
    if (auto st = apply_hardware_diff(ctx, *address, *diff); !st) {
      return invalid("genesis hardware_nodes of " + who + ": " + st.error().message);
    }
  }
  return {};
}

void NodesModule::register_messages(app::MsgRouter& router) {
  router.add_typed<MsgSubmitNewParticipant>(
      std::string(kMsgSubmitNewParticipantUrl), check_new_participant,
      [](app::Context& ctx, const MsgSubmitNewParticipant& msg, const types::Address& signer) {
        return register_participant(ctx, signer, msg);
      });
  router.add_typed<MsgSubmitHardwareDiff>(
      std::string(kMsgSubmitHardwareDiffUrl), check_hardware_diff,
      [](app::Context& ctx, const MsgSubmitHardwareDiff& msg, const types::Address& signer) {
        return apply_hardware_diff(ctx, signer, msg);
      });
}

void NodesModule::register_queries(app::QueryRouter& router) {
  router.add("/inference/participants", [](const app::QueryRequest& req) -> common::Result<nlohmann::json> {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& p : get_participants(req.state)) list.push_back(participant_to_json(p, req.hrp));
    return nlohmann::json{{"participants", list}};
  });
  router.add("/inference/participants/{address}",
             [](const app::QueryRequest& req) -> common::Result<nlohmann::json> {
               auto address = types::parse_address(req.hrp, req.param("address"));
               if (!address) return address.error();
               auto p = get_participant(req.state, *address);
               if (!p)
                 return common::make_error(codes::kNotFound,
                                           "participant " + req.param("address") + " is not registered");
               return nlohmann::json{{"participant", participant_to_json(*p, req.hrp)}};
             });
  router.add("/inference/hardware-nodes", [](const app::QueryRequest& req) -> common::Result<nlohmann::json> {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& p : get_participants(req.state)) {
      nlohmann::json nodes = nlohmann::json::array();
      for (const auto& n : get_hardware_nodes(req.state, p.address()))
        nodes.push_back(hardware_node_to_json(n));
      list.push_back({{"participant", types::to_bech32(req.hrp, p.address())}, {"nodes", nodes}});
    }
    return nlohmann::json{{"hardware_nodes", list}};
  });
  router.add("/inference/hardware-nodes/{participant}",
             [](const app::QueryRequest& req) -> common::Result<nlohmann::json> {
               auto address = types::parse_address(req.hrp, req.param("participant"));
               if (!address) return address.error();
               nlohmann::json nodes = nlohmann::json::array();
               for (const auto& n : get_hardware_nodes(req.state, *address))
                 nodes.push_back(hardware_node_to_json(n));
               return nlohmann::json{{"participant", req.param("participant")}, {"nodes", nodes}};
             });
  // GetNodesForModel; the model id may contain '/' (or arrive %2F-encoded).
  router.add("/inference/nodes-for-model/{model_id...}",
             [](const app::QueryRequest& req) -> common::Result<nlohmann::json> {
               std::string id = models::decode_model_id(req.param("model_id"));
               nlohmann::json nodes = nlohmann::json::array();
               for (const auto& ref : get_nodes_for_model(req.state, id)) {
                 auto n = hardware_node_to_json(ref.node);
                 n["participant"] = types::to_bech32(req.hrp, ref.participant);
                 nodes.push_back(std::move(n));
               }
               return nlohmann::json{{"model_id", id}, {"nodes", nodes}};
             });
}

}  // namespace chain::x::nodes
