// Inference validation, the comparison (issue 12 item 6; the rule is docs/inference-validation.md, "The
// comparison"). Pure: no I/O, no clock. The executor's per-token log-probabilities (what it recorded from its
// MLNode) are compared with the validator's, computed by its own MLNode with `enforced_str` = the executor's
// content, under the model's `validation_threshold`.
//
//   1. The validator's own tokens are empty or do not spell the content          -> kAbstain (own failure)
//   2. The executor's tokens are empty, or do not spell the content              -> kInvalid
//      ("spell": a token that holds only part of a multi-byte character may come with no text, "" or U+FFFD;
//      after such tokens the next one may start after a run of non-ASCII content bytes)
//   3. Tokens aligned = same byte offset in the content and same text. Fewer than
//      kMinAlignedShare of the executor's tokens (and of the validator's) aligned -> kInvalid
//   4. Per aligned position i: d_i = max over the tokens both sides report there (the chosen token and the
//      top_logprobs alternatives listed by both) of |exp(lp_executor) - exp(lp_validator)|, in [0, 1];
//      a logprob that is not finite or is above 0 on the executor's side                -> kInvalid
//      similarity = 1 - mean(d_i); similarity >= threshold -> kValid, else kInvalid.
// Different tokens are never a pass (Gonka's comparison treated them as one).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace api::validation {

struct TopLogprob {
  std::string token;
  double logprob = 0;
};

// One generated token as OpenAI's `choices[0].logprobs.content[i]` reports it.
struct TokenLogprob {
  std::string token;
  double logprob = 0;
  std::vector<TopLogprob> top;  // top_logprobs (may be empty)
};

enum class Verdict { kValid, kInvalid, kAbstain };
std::string verdict_name(Verdict v);  // "valid" | "invalid" | "abstained"

struct Comparison {
  Verdict verdict = Verdict::kAbstain;
  double similarity = 0;    // 1 - mean distance over the aligned positions (0 when not compared)
  std::size_t aligned = 0;  // positions compared
  std::string reason;       // one line, for the log
};

// Share of tokens that must align (rule 3). An honest answer sampled at temperature > 0 may be split into
// other tokens by the validator's grammar pass at a few places (src/mlnode/README.md); a split made up by the
// executor aligns nowhere.
inline constexpr double kMinAlignedShare = 0.9;

// `threshold` in (0, 1] (the model's validation_threshold). A threshold outside it -> kAbstain.
Comparison compare_logprobs(const std::string& content, const std::vector<TokenLogprob>& executor,
                            const std::vector<TokenLogprob>& validator, double threshold);

// The decimal {"value": 98, "exponent": -2} of the chain's model JSON (or a decimal string "0.98") as a
// double; nullopt when malformed.
std::optional<double> threshold_from_json(const nlohmann::json& j);

// Reads `logprobs.content` of one choice (a whole completion's choice or a stream chunk's). Appends to `out`;
// false when the shape is wrong (missing token/logprob, wrong types). A missing or null `logprobs` is true
// with nothing appended.
bool append_logprobs(const nlohmann::json& choice, std::vector<TokenLogprob>& out);

nlohmann::json logprobs_to_json(const std::vector<TokenLogprob>& tokens);
// nullopt when malformed (at most max_tokens entries).
std::optional<std::vector<TokenLogprob>> logprobs_from_json(const nlohmann::json& j,
                                                            std::size_t max_tokens = 1'000'000);

}  // namespace api::validation
