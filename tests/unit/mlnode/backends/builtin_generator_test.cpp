#include "mlnode/backends/builtin_generator.h"

#include <gtest/gtest.h>

#include "mlnode/backends/openai_format.h"
#include "mlnode/backends/tokenizer.h"

namespace mlnode::backends {
namespace {

ChatRequest prompt_request(const std::string& prompt) {
  auto r = parse_chat_request(
      R"({"model":"Qwen/Qwen2.5-7B-Instruct","messages":[{"role":"user","content":")" + prompt + R"("}]})");
  EXPECT_TRUE(r.ok());
  return *r;
}

TEST(BuiltinGenerator, SameRequestSameOutputDifferentPromptDifferentOutput) {
  const Generation a = generate(prompt_request("hello"));
  const Generation b = generate(prompt_request("hello"));
  const Generation c = generate(prompt_request("goodbye"));
  EXPECT_EQ(a.content(), b.content());
  EXPECT_NE(a.content(), c.content());
  ASSERT_EQ(a.tokens.size(), b.tokens.size());
  for (std::size_t i = 0; i < a.tokens.size(); ++i) EXPECT_EQ(a.tokens[i].logprob, b.tokens[i].logprob);
  auto seeded = prompt_request("hello");
  seeded.seed = 42;
  EXPECT_NE(generate(seeded).content(), a.content());
}

TEST(BuiltinGenerator, UsageCountsAgreeWithTheTokenizer) {
  const ChatRequest r = prompt_request("count my tokens, please");
  const Generation g = generate(r);
  EXPECT_EQ(g.prompt_tokens, static_cast<int64_t>(tokenize_text(render_chat(r.messages)).size()));
  EXPECT_EQ(g.tokens.size(), tokenize_text(g.content()).size()) << g.content();
  EXPECT_GE(static_cast<int64_t>(g.tokens.size()), kMinCompletionTokens);
  EXPECT_LE(static_cast<int64_t>(g.tokens.size()), kMaxCompletionTokens);
  EXPECT_EQ(g.finish_reason, "stop");
  const auto usage = completion_object("id", 0, r.model, {g}, false)["usage"];
  EXPECT_EQ(usage["total_tokens"],
            usage["prompt_tokens"].get<int64_t>() + usage["completion_tokens"].get<int64_t>());
}

TEST(BuiltinGenerator, MaxTokensCutsWithFinishReasonLength) {
  ChatRequest r = prompt_request("hello");
  r.max_tokens = 3;
  const Generation g = generate(r);
  EXPECT_EQ(g.tokens.size(), 3u);
  EXPECT_EQ(g.finish_reason, "length");
}

TEST(BuiltinGenerator, EnforcedStringIsReproducedWithTheSameLogprobs) {
  ChatRequest r = prompt_request("hello");
  r.logprobs = true;
  r.top_logprobs = 5;
  const Generation original = generate(r);
  r.enforced_str = original.content();
  const Generation forced = generate(r);
  EXPECT_EQ(forced.content(), original.content());
  ASSERT_EQ(forced.tokens.size(), original.tokens.size());
  for (std::size_t i = 0; i < forced.tokens.size(); ++i) {
    EXPECT_EQ(forced.tokens[i].logprob, original.tokens[i].logprob);
    EXPECT_EQ(forced.tokens[i].top.size(), 5u);
  }
}

}  // namespace
}  // namespace mlnode::backends
