#include "api/chain/parse.h"

#include <cstdint>
#include <stdexcept>
#include <utility>

#include <nlohmann/json.hpp>

#include "common/bytes.h"

namespace api::chain {
namespace {

using nlohmann::json;

// Thrown inside this file only; parse() turns it into a Result error.
struct Malformed {
  std::string message;
};

// A JSON object and its path in the answer ("epoch_group.validation_weights[2]"), for error messages.
class Obj {
 public:
  Obj(const json& j, std::string path) : j_(j), path_(std::move(path)) {
    if (!j_.is_object())
      throw Malformed{(path_.empty() ? std::string("the body") : "field " + name("")) +
                      " must be a JSON object"};
  }

  const json& at(const std::string& key) const {
    auto it = j_.find(key);
    if (it == j_.end()) throw Malformed{"field " + name(key) + " is missing"};
    return *it;
  }
  bool has(const std::string& key) const { return j_.contains(key) && !j_.at(key).is_null(); }
  Obj obj(const std::string& key) const { return Obj(at(key), child(key)); }

  std::string str(const std::string& key) const {
    const json& v = at(key);
    if (!v.is_string()) throw Malformed{"field " + name(key) + " must be a string"};
    return v.get<std::string>();
  }
  uint64_t u64(const std::string& key) const {
    const json& v = at(key);
    if (!v.is_number_unsigned()) throw Malformed{"field " + name(key) + " must be a non-negative integer"};
    return v.get<uint64_t>();
  }
  // Integers the Cosmos habit sends as decimal strings (sequences, amounts).
  uint64_t u64_text(const std::string& key) const {
    std::string s = str(key);
    if (s.empty() || s.size() > 20 || s.find_first_not_of("0123456789") != std::string::npos) {
      throw Malformed{"field " + name(key) + " must be a decimal integer string, got \"" + s + "\""};
    }
    try {
      return std::stoull(s);
    } catch (const std::out_of_range&) {
      throw Malformed{"field " + name(key) + " is out of range: " + s};
    }
  }
  int64_t i64(const std::string& key) const {
    const json& v = at(key);
    if (!v.is_number_integer()) throw Malformed{"field " + name(key) + " must be an integer"};
    return v.get<int64_t>();
  }
  uint32_t u32(const std::string& key) const {
    uint64_t v = u64(key);
    if (v > UINT32_MAX) throw Malformed{"field " + name(key) + " is out of range: " + std::to_string(v)};
    return static_cast<uint32_t>(v);
  }
  // Calls fn(Obj, index) for each object of the array `key`.
  template <class Fn>
  void each(const std::string& key, Fn fn) const {
    const json& v = array(key);
    for (size_t i = 0; i < v.size(); ++i) fn(Obj(v[i], child(key) + "[" + std::to_string(i) + "]"), i);
  }
  template <class T, class Fn>
  std::vector<T> list(const std::string& key, Fn fn) const {
    std::vector<T> out;
    each(key, [&](const Obj& o, size_t) { out.push_back(fn(o)); });
    return out;
  }
  std::vector<std::string> strings(const std::string& key) const {
    const json& v = array(key);
    std::vector<std::string> out;
    for (size_t i = 0; i < v.size(); ++i) {
      if (!v[i].is_string()) throw Malformed{"field " + element(key, i) + " must be a string"};
      out.push_back(v[i].get<std::string>());
    }
    return out;
  }
  std::vector<uint64_t> u64s(const std::string& key) const {
    const json& v = array(key);
    std::vector<uint64_t> out;
    out.reserve(v.size());
    for (size_t i = 0; i < v.size(); ++i) {
      if (!v[i].is_number_unsigned())
        throw Malformed{"field " + element(key, i) + " must be a non-negative integer"};
      out.push_back(v[i].get<uint64_t>());
    }
    return out;
  }
  std::vector<double> doubles(const std::string& key) const {
    const json& v = array(key);
    std::vector<double> out;
    out.reserve(v.size());
    for (size_t i = 0; i < v.size(); ++i) {
      if (!v[i].is_number()) throw Malformed{"field " + element(key, i) + " must be a number"};
      out.push_back(v[i].get<double>());
    }
    return out;
  }
  std::vector<bool> bools(const std::string& key) const {
    const json& v = array(key);
    std::vector<bool> out;
    for (size_t i = 0; i < v.size(); ++i) {
      if (!v[i].is_boolean()) throw Malformed{"field " + element(key, i) + " must be true or false"};
      out.push_back(v[i].get<bool>());
    }
    return out;
  }

 private:
  const json& array(const std::string& key) const {
    const json& v = at(key);
    if (!v.is_array()) throw Malformed{"field " + name(key) + " must be an array"};
    return v;
  }
  std::string name(const std::string& key) const { return "\"" + (key.empty() ? path_ : child(key)) + "\""; }
  std::string child(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }
  std::string element(const std::string& key, size_t i) const {
    return "\"" + child(key) + "[" + std::to_string(i) + "]\"";
  }

  const json& j_;
  std::string path_;
};

template <class Fn>
auto parse(const std::string& body, Fn fn) -> common::Result<decltype(fn(std::declval<const Obj&>()))> {
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded()) return common::make_error(kMalformedAnswer, "the body is not valid JSON");
  try {
    return fn(Obj(j, ""));
  } catch (const Malformed& m) {
    return common::make_error(kMalformedAnswer, m.message);
  }
}

std::vector<Event> events(const Obj& o) {
  return o.list<Event>("events", [](const Obj& e) {
    return Event{e.str("type"), e.list<EventAttribute>("attributes", [](const Obj& a) {
                   return EventAttribute{a.str("key"), a.str("value")};
                 })};
  });
}

TxResult tx_result(const Obj& o) {
  return TxResult{o.str("hash"), o.u64("height"), o.u32("code"), o.str("log"), events(o)};
}

GovernanceModel model(const Obj& o) {
  return GovernanceModel{o.str("id"),
                         o.u64("units_of_compute_per_token"),
                         o.u64("context_window"),
                         o.str("quantization"),
                         o.str("hf_repo"),
                         o.str("hf_commit"),
                         o.strings("model_args"),
                         o.u64("v_ram"),
                         o.u64("throughput_per_nonce")};
}

common::epochs::EpochStages stages(const Obj& o) {
  common::epochs::EpochStages s;
  s.pre_poc_selection = o.u64("pre_poc_selection");
  s.poc_start = o.u64("poc_start");
  s.poc_wind_down = o.u64("poc_wind_down");
  s.poc_end = o.u64("poc_end");
  s.poc_exchange_end = o.u64("poc_exchange_end");
  s.validation_start = o.u64("validation_start");
  s.validation_wind_down = o.u64("validation_wind_down");
  s.validation_end = o.u64("validation_end");
  s.model_loading_start = o.u64("model_loading_start");
  s.set_new_validators = o.u64("set_new_validators");
  s.settlement = o.u64("settlement");
  s.next_poc_start = o.u64("next_poc_start");
  return s;
}

common::epochs::EpochParams params(const Obj& o) {
  common::epochs::EpochParams p;
  p.epoch_length = o.u64("epoch_length");
  p.epoch_shift = o.u64("epoch_shift");
  p.poc_stage_duration = o.u64("poc_stage_duration");
  p.poc_exchange_duration = o.u64("poc_exchange_duration");
  p.poc_validation_delay = o.u64("poc_validation_delay");
  p.poc_validation_duration = o.u64("poc_validation_duration");
  p.model_loading_duration = o.u64("model_loading_duration");
  p.wind_down_percent = o.u64("wind_down_percent");
  return p;
}

}  // namespace

std::optional<std::string> Event::attribute(std::string_view key) const {
  for (const auto& a : attributes) {
    if (a.key == key) return a.value;
  }
  return std::nullopt;
}

common::Result<ChainStatus> parse_status(const std::string& body) {
  return parse(body, [](const Obj& o) {
    return ChainStatus{o.str("chain_id"), o.u64("height"),
                       o.has("latest_block_hash") ? o.str("latest_block_hash") : ""};
  });
}

common::Result<Block> parse_block(const std::string& body) {
  return parse(body, [](const Obj& o) {
    return Block{o.u64("height"), o.str("hash"), o.i64("time_unix_ms"), o.list<TxResult>("txs", tx_result),
                 events(o)};
  });
}

common::Result<TxResult> parse_tx_result(const std::string& body) {
  return parse(body, tx_result);
}

common::Result<EpochInfo> parse_epoch(const std::string& body) {
  return parse(body, [](const Obj& o) {
    EpochInfo e;
    e.epoch_index = o.u64("epoch_index");
    if (o.has("upcoming_epoch_index")) e.upcoming_epoch_index = o.u64("upcoming_epoch_index");
    e.latest_epoch_index = o.u64("latest_epoch_index");
    e.block_height = o.u64("block_height");
    e.phase = o.str("phase");
    e.stages = stages(o.obj("stages"));
    e.params = params(o.obj("params"));
    return e;
  });
}

common::Result<EpochGroup> parse_epoch_group(const std::string& body) {
  return parse(body, [](const Obj& root) {
    Obj o = root.obj("epoch_group");
    EpochGroup g;
    g.epoch_index = o.u64("epoch_index");
    g.model_id = o.str("model_id");
    g.poc_start_block_height = o.u64("poc_start_block_height");
    g.effective_block_height = o.u64("effective_block_height");
    g.total_weight = o.u64("total_weight");
    g.sub_group_models = o.strings("sub_group_models");
    g.validation_weights = o.list<GroupMember>("validation_weights", [](const Obj& m) {
      return GroupMember{m.str("member_address"), m.u64("weight"), m.str("url"),
                         m.list<GroupMLNode>("ml_nodes", [](const Obj& n) {
                           return GroupMLNode{n.str("node_id"), n.u64("throughput"), n.u64("poc_weight"),
                                              n.bools("timeslot_allocation")};
                         })};
    });
    if (o.has("model_snapshot")) g.model_snapshot = model(o.obj("model_snapshot"));
    return g;
  });
}

common::Result<std::vector<GovernanceModel>> parse_governance_models(const std::string& body) {
  return parse(body, [](const Obj& o) { return o.list<GovernanceModel>("models", model); });
}

common::Result<MLNodeVersion> parse_mlnode_version(const std::string& body) {
  return parse(body, [](const Obj& o) {
    MLNodeVersion v{o.obj("mlnode_version").str("current_mlnode_version"), std::nullopt};
    if (o.has("next_upgrade")) {
      Obj u = o.obj("next_upgrade");
      v.next_upgrade = PartialUpgrade{u.u64("height"), u.str("node_version"), u.str("api_binaries_json")};
    }
    return v;
  });
}

common::Result<Participant> parse_participant(const std::string& body) {
  return parse(body, [](const Obj& root) {
    Obj o = root.obj("participant");
    return Participant{o.str("address"), o.str("url"), o.str("status"), o.u64("join_height")};
  });
}

common::Result<std::vector<HardwareNode>> parse_hardware_nodes(const std::string& body) {
  return parse(body, [](const Obj& o) {
    return o.list<HardwareNode>("nodes", [](const Obj& n) {
      return HardwareNode{n.str("local_id"),
                          n.str("status"),
                          n.strings("models"),
                          n.list<Hardware>("hardware",
                                           [](const Obj& h) {
                                             return Hardware{h.str("type"), h.u64("count")};
                                           }),
                          n.str("host"),
                          n.u32("inference_port"),
                          n.u32("poc_port")};
    });
  });
}

common::Result<Account> parse_account(const std::string& body) {
  return parse(body, [](const Obj& o) {
    Account a{o.str("address"), o.u64_text("account_number"), o.u64_text("sequence"), {}};
    if (o.has("public_key")) {
      auto key = common::from_base64(o.str("public_key"));
      if (!key || (!key->empty() && key->size() != 33)) {
        throw Malformed{"field \"public_key\" must be the base64 of a 33-byte compressed key"};
      }
      a.public_key = *key;
    }
    return a;
  });
}

common::Result<std::vector<PocBatch>> parse_poc_batches(const std::string& body) {
  return parse(body, [](const Obj& o) {
    return o.list<PocBatch>("batches", [](const Obj& b) {
      PocBatch p{b.str("participant"),      b.str("node_id"),           b.str("batch_id"),
                 b.u64s("nonces"),          b.doubles("dist"),          b.u64("epoch_index"),
                 b.u64("poc_start_height"), b.u64("received_at_height")};
      if (p.nonces.size() != p.dist.size()) {
        throw Malformed{"batch \"" + p.batch_id + "\" has " + std::to_string(p.nonces.size()) +
                        " nonces but " + std::to_string(p.dist.size()) + " dist values"};
      }
      return p;
    });
  });
}

common::Result<uint64_t> parse_balance(const std::string& body, const std::string& denom) {
  return parse(body, [&denom](const Obj& o) {
    uint64_t amount = 0;
    o.each("balances", [&](const Obj& coin, size_t) {
      if (coin.str("denom") == denom) amount = coin.u64_text("amount");
    });
    return amount;
  });
}

common::Result<BroadcastResult> parse_broadcast(const std::string& body) {
  return parse(body, [](const Obj& o) {
    return BroadcastResult{o.u32("code"), o.str("log"), o.str("txhash")};
  });
}

}  // namespace api::chain
