#include "mlnode/backends/llama_cpp_upstream.h"

#include <gtest/gtest.h>

namespace mlnode::backends {
namespace {

using nlohmann::json;
using Args = std::vector<std::string>;

Args tail_after_fixed(const Args& args) {
  return Args(args.begin() + 10, args.end());
}

TEST(LlamaCppServerArgs, FixedArgsNameAliasAddressAndLogprobs) {
  auto r = llama_cpp_server_args("HuggingFaceTB/SmolLM2-135M-Instruct", "127.0.0.1", 8123, {});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->args, (Args{"--model_alias", "HuggingFaceTB/SmolLM2-135M-Instruct", "--host", "127.0.0.1",
                           "--port", "8123", "--interrupt_requests", "false", "--logits_all", "true"}));
  EXPECT_TRUE(r->ignored.empty());
}

TEST(LlamaCppServerArgs, MapsMeaningfulFlagsInBothForms) {
  auto r = llama_cpp_server_args("m", "h", 1, {"--max-model-len", "4096", "--seed=7", "--n_threads", "2"});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(tail_after_fixed(r->args), (Args{"--n_ctx", "4096", "--seed", "7", "--n_threads", "2"}));
}

TEST(LlamaCppServerArgs, IgnoresVllmTuningFlagsAndReportsThem) {
  auto r = llama_cpp_server_args("m", "h", 1,
                                 {"--quantization", "fp8", "--enforce-eager", "--tensor-parallel-size=2",
                                  "--max-model-len", "2048", "--enable-chunked-prefill"});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(tail_after_fixed(r->args), (Args{"--n_ctx", "2048"}));
  EXPECT_EQ(r->ignored, (Args{"--quantization fp8", "--enforce-eager", "--tensor-parallel-size 2",
                              "--enable-chunked-prefill"}));
}

TEST(LlamaCppServerArgs, RefusesUnknownMalformedAndMissingValues) {
  auto unknown = llama_cpp_server_args("m", "h", 1, {"--speculative-model", "x"});
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, 400u);
  EXPECT_NE(unknown.error().message.find("--speculative-model"), std::string::npos);
  EXPECT_FALSE(llama_cpp_server_args("m", "h", 1, {"fp8"}));                        // not a flag
  EXPECT_FALSE(llama_cpp_server_args("m", "h", 1, {"--max-model-len"}));            // no value
  EXPECT_FALSE(llama_cpp_server_args("m", "h", 1, {"--max-model-len", "--seed"}));  // value is a flag
  EXPECT_FALSE(llama_cpp_server_args("m", "h", 1, {"--max-model-len", "big"}));     // not an integer
  EXPECT_FALSE(llama_cpp_server_args("m", "h", 1, {"--enforce-eager=1"}));          // switch with a value
  EXPECT_FALSE(llama_cpp_server_args("m", "h", 1, {"--seed", "1; rm -rf /"}));      // not an integer
}

TEST(GbnfLiteral, EscapesQuotesBackslashesAndControlBytes) {
  EXPECT_EQ(gbnf_literal("Paris"), "\"Paris\"");
  EXPECT_EQ(gbnf_literal("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(gbnf_literal("x\ny\tz\r"), "\"x\\ny\\tz\\r\"");
  EXPECT_EQ(gbnf_literal(std::string("\x01\x7f", 2)), "\"\\x01\\x7F\"");
  EXPECT_EQ(gbnf_literal("caf\xc3\xa9"), "\"caf\xc3\xa9\"");  // UTF-8 kept
  EXPECT_EQ(gbnf_literal(""), "\"\"");
}

TEST(LlamaCppEnforcedBody, ConstrainsToTheTextGreedilyWithLogprobs) {
  json raw = {{"model", "m"},
              {"messages", json::array({{{"role", "user"}, {"content", "hi"}}})},
              {"enforced_str", "Hi there"},
              {"stop", "x"},
              {"temperature", 0.7},
              {"n", 3},
              {"seed", 5},
              {"max_tokens", 2},
              {"top_logprobs", 3}};
  json body = llama_cpp_enforced_body(raw, "Hi there");
  EXPECT_FALSE(body.contains("enforced_str"));
  EXPECT_FALSE(body.contains("stop"));
  EXPECT_FALSE(body.contains("seed"));
  EXPECT_EQ(body["grammar"], "root ::= \"Hi there\"");
  EXPECT_EQ(body["temperature"], 0);
  EXPECT_EQ(body["n"], 1);
  EXPECT_EQ(body["logprobs"], true);
  EXPECT_EQ(body["top_logprobs"], 3);
  EXPECT_EQ(body["max_tokens"], 16);
  EXPECT_EQ(body["messages"], raw["messages"]);
}

json upstream_answer(const std::string& content, json logprobs) {
  return {{"choices", json::array({{{"message", {{"role", "assistant"}, {"content", content}}},
                                    {"logprobs", std::move(logprobs)}}})}};
}

TEST(LlamaCppEnforcedAnswer, AcceptsOnlyTheExactTextWithLogprobs) {
  json lp = {{"content", json::array({{{"token", "Hi"}, {"logprob", -0.5}}})}};
  EXPECT_TRUE(check_llama_cpp_enforced_answer(upstream_answer("Hi", lp), "Hi"));
  auto other = check_llama_cpp_enforced_answer(upstream_answer("Hello", lp), "Hi");
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().code, 502u);
  EXPECT_FALSE(check_llama_cpp_enforced_answer(upstream_answer("Hi", nullptr), "Hi"));
  EXPECT_FALSE(check_llama_cpp_enforced_answer(upstream_answer("Hi", {{"content", json::array()}}), "Hi"));
  EXPECT_FALSE(check_llama_cpp_enforced_answer(json::object(), "Hi"));
  EXPECT_FALSE(check_llama_cpp_enforced_answer(json{{"choices", json::array()}}, "Hi"));
}

}  // namespace
}  // namespace mlnode::backends

namespace mlnode::backends {
namespace {

TEST(CountLlamaCppChunk, CountsChunksWithTextAndKeepsTheirIdentity) {
  int64_t tokens = 0, created = 0;
  std::string id, model;
  count_llama_cpp_chunk(
      R"({"id":"c1","created":7,"model":"M","choices":[{"index":0,"delta":{"role":"assistant"}}]})", tokens,
      id, created, model);
  EXPECT_EQ(tokens, 0);
  count_llama_cpp_chunk(R"({"id":"c1","created":7,"model":"M","choices":[{"delta":{"content":"Par"}}]})",
                        tokens, id, created, model);
  count_llama_cpp_chunk(R"({"id":"c1","created":7,"model":"M","choices":[{"delta":{"content":"is"}}]})",
                        tokens, id, created, model);
  count_llama_cpp_chunk(R"({"id":"c1","choices":[{"delta":{"content":""},"finish_reason":"stop"}]})", tokens,
                        id, created, model);
  EXPECT_EQ(tokens, 2);
  EXPECT_EQ(id, "c1");
  EXPECT_EQ(created, 7);
  EXPECT_EQ(model, "M");
  for (const char* junk :
       {"not json", "[1,2]", R"({"choices":"x"})", R"({"choices":[{"delta":{"content":5}}]})",
        R"({"choices":[7]})", R"({"id":5,"created":"x"})"})
    count_llama_cpp_chunk(junk, tokens, id, created, model);
  EXPECT_EQ(tokens, 2);
  EXPECT_EQ(id, "c1");
  EXPECT_EQ(created, 7);
}

}  // namespace
}  // namespace mlnode::backends
