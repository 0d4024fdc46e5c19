#include "mlnode/backends/chat_request.h"

#include <gtest/gtest.h>

namespace mlnode::backends {
namespace {

std::string error_of(const std::string& body) {
  auto r = parse_chat_request(body);
  EXPECT_FALSE(r.ok()) << body;
  if (r.ok()) return "";
  EXPECT_EQ(r.error().code, 400u);
  return r.error().message;
}

TEST(ChatRequest, ParsesTheFieldsTheNodeUses) {
  auto r = parse_chat_request(R"({"model":"m","messages":[{"role":"user","content":"hi"},
      {"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}],
      "stream":true,"stream_options":{"include_usage":true},"max_completion_tokens":5,"seed":7,
      "logprobs":true,"top_logprobs":5,"enforced_str":"x","extra_field":1})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->model, "m");
  ASSERT_EQ(r->messages.size(), 2u);
  EXPECT_EQ(r->messages[1].content, "ab");
  EXPECT_TRUE(r->stream);
  EXPECT_TRUE(r->include_usage);
  EXPECT_EQ(r->max_tokens, 5);
  EXPECT_EQ(r->seed, 7u);
  EXPECT_EQ(r->top_logprobs, 5);
  EXPECT_EQ(r->enforced_str, "x");
  EXPECT_EQ(r->raw["extra_field"], 1);
}

TEST(ChatRequest, ErrorsSayWhatIsWrong) {
  EXPECT_NE(error_of("{not json").find("not valid JSON"), std::string::npos);
  EXPECT_NE(error_of("[1]").find("JSON object"), std::string::npos);
  EXPECT_NE(error_of(R"({"messages":[{"role":"user","content":"x"}]})").find("\"model\" is required"), std::string::npos);
  EXPECT_NE(error_of(R"({"model":"m"})").find("\"messages\" is required"), std::string::npos);
  EXPECT_NE(error_of(R"({"model":"m","messages":[]})").find("non-empty array"), std::string::npos);
  EXPECT_NE(error_of(R"({"model":"m","messages":[{"role":"robot","content":"x"}]})").find("messages[0].role"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"model":"m","messages":[{"role":"user","content":5}]})").find("messages[0].content"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":0})").find("max_tokens"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"model":"m","messages":[{"role":"user","content":"x"}],"stream":"yes"})").find("stream"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"model":"m","messages":[{"role":"user","content":"x"}],"temperature":3})").find("temperature"),
            std::string::npos);
}

TEST(TokenizeRequest, NeedsExactlyOneOfPromptOrMessages) {
  EXPECT_TRUE(parse_tokenize_request(R"({"model":"m","prompt":"hi"})").ok());
  EXPECT_TRUE(parse_tokenize_request(R"({"model":"m","messages":[{"role":"user","content":"hi"}]})").ok());
  EXPECT_FALSE(parse_tokenize_request(R"({"model":"m"})").ok());
  EXPECT_FALSE(parse_tokenize_request(R"({"model":"m","prompt":"a","messages":[{"role":"user","content":"hi"}]})").ok());
  EXPECT_FALSE(parse_tokenize_request(R"({"prompt":"a"})").ok());
}

}  // namespace
}  // namespace mlnode::backends
