#include "api/validation/logprobs.h"

#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>

namespace api::validation {

using nlohmann::json;

namespace {

// Where a token sits in the content: its byte offset and, for a token whose text was lost (see below), its
// rank among the lost tokens at that offset (0 for a token with text).
using Position = std::pair<std::size_t, std::size_t>;

// A token that is only U+FFFD replacement characters carries no text either (a decoder that replaces instead
// of dropping invalid UTF-8).
bool lost(const std::string& text) {
  if (text.empty()) return true;
  if (text.size() % 3 != 0) return false;
  for (std::size_t i = 0; i < text.size(); i += 3)
    if (text.compare(i, 3, "\xEF\xBF\xBD") != 0) return false;
  return true;
}

// Position of each token in `content`; nullopt when the tokens do not spell it. A token covering only part of
// a multi-byte UTF-8 character comes back with no text (llama.cpp's server drops the partial bytes, and the
// whole character then appears in no token): after one or more such tokens, the next token may start after a
// run of non-ASCII bytes of the content, and the content may end with such a run.
std::optional<std::vector<Position>> positions(const std::string& content,
                                               const std::vector<TokenLogprob>& t) {
  std::vector<Position> out;
  out.reserve(t.size());
  std::size_t at = 0, lost_here = 0;
  auto matches = [&](std::size_t where, const std::string& text) {
    return where + text.size() <= content.size() && content.compare(where, text.size(), text) == 0;
  };
  for (const auto& tok : t) {
    if (lost(tok.token)) {
      out.emplace_back(at, ++lost_here);
      continue;
    }
    if (!matches(at, tok.token)) {
      if (lost_here == 0) return std::nullopt;
      std::size_t skip = at;
      while (skip < content.size() && static_cast<unsigned char>(content[skip]) >= 0x80 &&
             !matches(skip, tok.token))
        ++skip;
      if (!matches(skip, tok.token)) return std::nullopt;
      at = skip;
    }
    out.emplace_back(at, 0);
    at += tok.token.size();
    lost_here = 0;
  }
  if (at != content.size()) {
    if (lost_here == 0) return std::nullopt;
    for (std::size_t i = at; i < content.size(); ++i)
      if (static_cast<unsigned char>(content[i]) < 0x80) return std::nullopt;
  }
  return out;
}

bool sane(double logprob) {
  return std::isfinite(logprob) && logprob <= 0;
}

bool all_sane(const std::vector<TokenLogprob>& tokens) {
  for (const auto& t : tokens) {
    if (!sane(t.logprob)) return false;
    for (const auto& a : t.top)
      if (!sane(a.logprob)) return false;
  }
  return true;
}

// d_i of rule 4: the largest probability difference over the tokens both sides report at this position.
double distance(const TokenLogprob& e, const TokenLogprob& v) {
  std::map<std::string, double> validator_side;
  for (const auto& a : v.top) validator_side.emplace(a.token, a.logprob);
  validator_side[v.token] = v.logprob;
  double d = std::abs(std::exp(e.logprob) - std::exp(v.logprob));
  for (const auto& a : e.top) {
    auto it = validator_side.find(a.token);
    if (it != validator_side.end()) d = std::max(d, std::abs(std::exp(a.logprob) - std::exp(it->second)));
  }
  return std::min(1.0, d);
}

Comparison result(Verdict v, std::string reason, double similarity = 0, std::size_t aligned = 0) {
  return Comparison{v, similarity, aligned, std::move(reason)};
}

}  // namespace

std::string verdict_name(Verdict v) {
  switch (v) {
    case Verdict::kValid:
      return "valid";
    case Verdict::kInvalid:
      return "invalid";
    default:
      return "abstained";
  }
}

Comparison compare_logprobs(const std::string& content, const std::vector<TokenLogprob>& executor,
                            const std::vector<TokenLogprob>& validator, double threshold) {
  if (!(threshold > 0 && threshold <= 1))
    return result(Verdict::kAbstain, fmt::format("validation_threshold {} is not in (0, 1]", threshold));
  // Rule 1: the validator's own run must describe the content.
  if (validator.empty()) return result(Verdict::kAbstain, "the validator's MLNode returned no logprobs");
  auto voff = positions(content, validator);
  if (!voff) return result(Verdict::kAbstain, "the validator's tokens do not spell the content");
  if (!all_sane(validator)) return result(Verdict::kAbstain, "the validator's logprobs are not all <= 0");
  // Rule 2: so must the executor's.
  if (executor.empty()) return result(Verdict::kInvalid, "the executor recorded no logprobs for its content");
  auto eoff = positions(content, executor);
  if (!eoff) return result(Verdict::kInvalid, "the executor's tokens do not spell its content");
  if (!all_sane(executor))
    return result(Verdict::kInvalid, "the executor's logprobs are not all finite and <= 0");
  // Rule 3: align by (position, text).
  std::map<Position, std::size_t> at_offset;  // validator position -> index
  for (std::size_t j = 0; j < voff->size(); ++j) at_offset[(*voff)[j]] = j;
  double sum = 0;
  std::size_t aligned = 0;
  for (std::size_t i = 0; i < executor.size(); ++i) {
    auto it = at_offset.find((*eoff)[i]);
    if (it == at_offset.end() || validator[it->second].token != executor[i].token) continue;
    ++aligned;
    sum += distance(executor[i], validator[it->second]);
  }
  double need = kMinAlignedShare * static_cast<double>(std::max(executor.size(), validator.size()));
  if (static_cast<double>(aligned) < need) {
    return result(Verdict::kInvalid,
                  fmt::format("only {} of {} executor / {} validator tokens align (at least {:.0f}% needed)",
                              aligned, executor.size(), validator.size(), kMinAlignedShare * 100),
                  0, aligned);
  }
  // Rule 4.
  double similarity = 1.0 - sum / static_cast<double>(aligned);
  bool ok = similarity >= threshold;
  return result(ok ? Verdict::kValid : Verdict::kInvalid,
                fmt::format("similarity {:.6f} {} threshold {} over {} tokens", similarity, ok ? ">=" : "<",
                            threshold, aligned),
                similarity, aligned);
}

std::optional<double> threshold_from_json(const json& j) {
  if (j.is_string()) {
    const std::string& s = j.get_ref<const std::string&>();
    if (s.empty() || s.size() > 40) return std::nullopt;
    std::size_t used = 0;
    try {
      double d = std::stod(s, &used);
      if (used != s.size() || !std::isfinite(d)) return std::nullopt;
      return d;
    } catch (...) {
      return std::nullopt;
    }
  }
  if (!j.is_object() || !j.contains("value") || !j["value"].is_number_integer()) return std::nullopt;
  int64_t exponent = 0;
  if (j.contains("exponent")) {
    if (!j["exponent"].is_number_integer()) return std::nullopt;
    exponent = j["exponent"].get<int64_t>();
  }
  if (exponent < -18 || exponent > 18) return std::nullopt;
  return static_cast<double>(j["value"].get<int64_t>()) * std::pow(10.0, static_cast<double>(exponent));
}

namespace {

std::optional<TokenLogprob> token_from_json(const json& e) {
  if (!e.is_object()) return std::nullopt;
  auto t = e.find("token");
  auto l = e.find("logprob");
  if (t == e.end() || !t->is_string() || l == e.end() || !l->is_number()) return std::nullopt;
  TokenLogprob out{t->get<std::string>(), l->get<double>(), {}};
  if (auto top = e.find("top_logprobs"); top != e.end() && !top->is_null()) {
    if (!top->is_array() || top->size() > 20) return std::nullopt;
    for (const auto& a : *top) {
      if (!a.is_object() || !a.contains("token") || !a["token"].is_string() || !a.contains("logprob") ||
          !a["logprob"].is_number())
        return std::nullopt;
      out.top.push_back({a["token"].get<std::string>(), a["logprob"].get<double>()});
    }
  }
  return out;
}

}  // namespace

bool append_logprobs(const json& choice, std::vector<TokenLogprob>& out) {
  if (!choice.is_object()) return false;
  auto lp = choice.find("logprobs");
  if (lp == choice.end() || lp->is_null()) return true;
  if (!lp->is_object()) return false;
  auto content = lp->find("content");
  if (content == lp->end() || content->is_null()) return true;
  if (!content->is_array()) return false;
  for (const auto& e : *content) {
    auto t = token_from_json(e);
    if (!t) return false;
    out.push_back(std::move(*t));
  }
  return true;
}

json logprobs_to_json(const std::vector<TokenLogprob>& tokens) {
  json out = json::array();
  for (const auto& t : tokens) {
    json top = json::array();
    for (const auto& a : t.top) top.push_back({{"token", a.token}, {"logprob", a.logprob}});
    out.push_back({{"token", t.token}, {"logprob", t.logprob}, {"top_logprobs", top}});
  }
  return out;
}

std::optional<std::vector<TokenLogprob>> logprobs_from_json(const json& j, std::size_t max_tokens) {
  if (!j.is_array() || j.size() > max_tokens) return std::nullopt;
  std::vector<TokenLogprob> out;
  out.reserve(j.size());
  for (const auto& e : j) {
    auto t = token_from_json(e);
    if (!t) return std::nullopt;
    out.push_back(std::move(*t));
  }
  return out;
}

}  // namespace api::validation
