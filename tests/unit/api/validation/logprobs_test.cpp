// The validation comparison (src/api/validation/logprobs.h): a table of executor/validator token sequences
// and the verdict each must get, plus the JSON readers.
#include <gtest/gtest.h>

#include <cmath>

#include "api/validation/logprobs.h"

namespace api::validation {
namespace {

using nlohmann::json;

TokenLogprob tok(std::string t, double lp, std::vector<TopLogprob> top = {}) {
  return TokenLogprob{std::move(t), lp, std::move(top)};
}

const std::string kContent = "The node answers.";
// The honest tokens of kContent.
std::vector<TokenLogprob> honest() {
  return {tok("The", -0.1, {{"The", -0.1}, {" A", -2.5}}),
          tok(" node", -0.7, {{" node", -0.7}, {" chain", -1.0}}), tok(" answers", -1.2), tok(".", -0.05)};
}

struct Case {
  const char* name;
  std::vector<TokenLogprob> executor;
  std::vector<TokenLogprob> validator;
  double threshold;
  Verdict expected;
};

TEST(CompareLogprobs, Table) {
  auto shifted = honest();
  for (auto& t : shifted) t.logprob -= 0.001;  // tiny numeric noise (another machine's kernels)
  auto far = honest();
  for (auto& t : far) t.logprob = -6;  // the validator's model finds the text unlikely
  auto other_top = honest();
  other_top[1].top[1].logprob = -9;  // an alternative with a very different probability
  auto resplit = honest();           // " answers" split in two by the executor: 3 of 5 tokens align (< 90 %)
  resplit.erase(resplit.begin() + 2);
  resplit.insert(resplit.begin() + 2, {tok(" ans", -1), tok("wers", -0.2)});
  std::vector<TokenLogprob> bytes;  // a split made up token by token
  for (char c : kContent) bytes.push_back(tok(std::string(1, c), -0.1));
  auto wrong_text = honest();
  wrong_text[1].token = " chain";  // tokens of another text than the content
  auto short_tokens = honest();
  short_tokens.pop_back();  // tokens spell only a prefix of the content
  auto positive = honest();
  positive[0].logprob = 0.5;
  auto nan = honest();
  nan[0].logprob = std::nan("");

  const Case cases[] = {
      {"identical", honest(), honest(), 0.98, Verdict::kValid},
      {"identical, threshold 1", honest(), honest(), 1.0, Verdict::kValid},
      {"numeric noise", shifted, honest(), 0.98, Verdict::kValid},
      {"far logprobs", far, honest(), 0.98, Verdict::kInvalid},
      {"far logprobs, low threshold", far, honest(), 0.01, Verdict::kValid},
      {"an alternative far off", other_top, honest(), 0.95, Verdict::kInvalid},
      {"re-split tokens", resplit, honest(), 0.5, Verdict::kInvalid},
      {"made-up byte split", bytes, honest(), 0.5, Verdict::kInvalid},
      {"executor tokens of another text", wrong_text, honest(), 0.5, Verdict::kInvalid},
      {"executor tokens spell a prefix", short_tokens, honest(), 0.5, Verdict::kInvalid},
      {"executor logprobs empty", {}, honest(), 0.5, Verdict::kInvalid},
      {"executor logprob above 0", positive, honest(), 0.5, Verdict::kInvalid},
      {"executor logprob NaN", nan, honest(), 0.5, Verdict::kInvalid},
      {"validator logprobs empty", honest(), {}, 0.5, Verdict::kAbstain},
      {"both empty", {}, {}, 0.5, Verdict::kAbstain},
      {"validator tokens of another text", honest(), wrong_text, 0.5, Verdict::kAbstain},
      {"validator logprob NaN", honest(), nan, 0.5, Verdict::kAbstain},
      {"threshold 0", honest(), honest(), 0, Verdict::kAbstain},
      {"threshold above 1", honest(), honest(), 1.5, Verdict::kAbstain},
  };
  for (const auto& c : cases) {
    auto r = compare_logprobs(kContent, c.executor, c.validator, c.threshold);
    EXPECT_EQ(verdict_name(r.verdict), verdict_name(c.expected)) << c.name << ": " << r.reason;
    EXPECT_FALSE(r.reason.empty()) << c.name;
  }
}

TEST(CompareLogprobs, SimilarityIsOneMinusTheMeanProbabilityDistance) {
  auto v = honest();
  auto e = honest();
  e[3].logprob = std::log(std::exp(-0.05) - 0.4);  // position 3 differs by exactly 0.4 in probability
  auto r = compare_logprobs(kContent, e, v, 0.5);
  EXPECT_EQ(r.aligned, 4u);
  EXPECT_NEAR(r.similarity, 1 - 0.4 / 4, 1e-9);
  EXPECT_EQ(r.verdict, Verdict::kValid);
  EXPECT_EQ(compare_logprobs(kContent, e, v, 0.91).verdict, Verdict::kInvalid);
}

TEST(CompareLogprobs, AFewReSplitTokensOfALongAnswerStillCompare) {
  // 20 aligned tokens and one spot split differently: 20 of 21 / 22 align (>= 90 %).
  std::string content;
  std::vector<TokenLogprob> e, v;
  for (int i = 0; i < 20; ++i) {
    e.push_back(tok(" w" + std::to_string(i), -0.3));
    v.push_back(tok(" w" + std::to_string(i), -0.3));
    content += " w" + std::to_string(i);
  }
  content += " end";
  e.push_back(tok(" end", -0.2));
  v.push_back(tok(" e", -0.2));
  v.push_back(tok("nd", -0.1));
  auto r = compare_logprobs(content, e, v, 0.98);
  EXPECT_EQ(r.verdict, Verdict::kValid) << r.reason;
  EXPECT_EQ(r.aligned, 20u);
}

TEST(CompareLogprobs, TokensThatLostPartsOfMultiByteCharacters) {
  // llama.cpp's server: the 3 tokens of two emojis come back with no text ("" or U+FFFD); the characters
  // appear in no token.
  const std::string content = "\xF0\x9F\x8C\x8D\xF0\x9F\x8C\x88\n#You";
  std::vector<TokenLogprob> honest = {tok("", -0.5),   tok("", -0.1),  tok("\xEF\xBF\xBD", -0.2),
                                      tok("\n", -0.3), tok("#", -0.4), tok("You", -0.6)};
  auto r = compare_logprobs(content, honest, honest, 0.98);
  EXPECT_EQ(r.verdict, Verdict::kValid) << r.reason;
  EXPECT_EQ(r.aligned, 6u);
  // Text after the lost characters must still be where it is.
  auto moved = honest;
  moved[4].token = "Y";
  EXPECT_EQ(compare_logprobs(content, moved, honest, 0.5).verdict, Verdict::kInvalid);
  // Skipping content is allowed only over non-ASCII bytes right after lost tokens.
  const std::vector<TokenLogprob> no_lost = {tok("\n", -0.3), tok("#", -0.4), tok("You", -0.6)};
  EXPECT_EQ(compare_logprobs(content, no_lost, honest, 0.5).verdict, Verdict::kInvalid);
  EXPECT_EQ(compare_logprobs(content, honest, no_lost, 0.5).verdict, Verdict::kAbstain);
  const std::vector<TokenLogprob> skips_ascii = {tok("", -0.5), tok("You", -0.6)};
  EXPECT_EQ(compare_logprobs(content, skips_ascii, honest, 0.5).verdict, Verdict::kInvalid);
  // A content ending in lost characters.
  const std::string tail = "ok \xE6\x97\xA5";
  const std::vector<TokenLogprob> t = {tok("ok", -0.1), tok(" ", -0.2), tok("", -0.3), tok("", -0.4)};
  EXPECT_EQ(compare_logprobs(tail, t, t, 0.98).verdict, Verdict::kValid);
  // An executor claiming other lost tokens than the model's: they do not align.
  std::vector<TokenLogprob> more_lost = honest;
  more_lost.insert(more_lost.begin(), {tok("", -0.1), tok("", -0.1), tok("", -0.1)});
  EXPECT_EQ(compare_logprobs(content, more_lost, honest, 0.5).verdict, Verdict::kInvalid);
}

TEST(Threshold, ReadsTheChainDecimal) {
  EXPECT_DOUBLE_EQ(*threshold_from_json(json{{"value", 98}, {"exponent", -2}}), 0.98);
  EXPECT_DOUBLE_EQ(*threshold_from_json(json("0.5")), 0.5);
  EXPECT_FALSE(threshold_from_json(json{{"value", "98"}}));
  EXPECT_FALSE(threshold_from_json(json("0.5x")));
  EXPECT_FALSE(threshold_from_json(json{{"value", 1}, {"exponent", 400}}));
  EXPECT_FALSE(threshold_from_json(json(nullptr)));
}

TEST(LogprobsJson, ReadsAChoiceAndRoundTrips) {
  json choice = json::parse(R"({"index":0,"message":{"content":"Hi"},"logprobs":{"content":[
      {"token":"H","logprob":-0.5,"bytes":[72],"top_logprobs":[{"token":"H","logprob":-0.5,"bytes":[72]}]},
      {"token":"i","logprob":-1.5,"top_logprobs":[]}]}})");
  std::vector<TokenLogprob> out;
  ASSERT_TRUE(append_logprobs(choice, out));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].top.size(), 1u);
  auto back = logprobs_from_json(logprobs_to_json(out));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->size(), 2u);
  EXPECT_EQ((*back)[1].token, "i");
  EXPECT_DOUBLE_EQ((*back)[1].logprob, -1.5);

  std::vector<TokenLogprob> none;
  EXPECT_TRUE(append_logprobs(json{{"index", 0}}, none));
  EXPECT_TRUE(append_logprobs(json{{"logprobs", nullptr}}, none));
  EXPECT_TRUE(none.empty());
  EXPECT_FALSE(append_logprobs(json{{"logprobs", {{"content", {{{"token", 1}}}}}}}, none));
  EXPECT_FALSE(append_logprobs(json{{"logprobs", "x"}}, none));
  EXPECT_FALSE(logprobs_from_json(json::array({json{{"token", "a"}}})));
  EXPECT_FALSE(logprobs_from_json(json::array({json{{"token", "a"}, {"logprob", -1}}}), 0));
}

}  // namespace
}  // namespace api::validation
