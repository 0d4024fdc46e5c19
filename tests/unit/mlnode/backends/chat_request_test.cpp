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
  EXPECT_NE(error_of(R"({"messages":[{"role":"user","content":"x"}]})").find("\"model\" is required"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"model":"m"})").find("\"messages\" is required"), std::string::npos);
  EXPECT_NE(error_of(R"({"model":"m","messages":[]})").find("non-empty array"), std::string::npos);
  EXPECT_NE(error_of(R"({"model":"m","messages":[{"role":"robot","content":"x"}]})").find("messages[0].role"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"model":"m","messages":[{"role":"user","content":5}]})").find("messages[0].content"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":0})")
                .find("max_tokens"),
            std::string::npos);
  EXPECT_NE(
      error_of(R"({"model":"m","messages":[{"role":"user","content":"x"}],"stream":"yes"})").find("stream"),
      std::string::npos);
  EXPECT_NE(error_of(R"({"model":"m","messages":[{"role":"user","content":"x"}],"temperature":3})")
                .find("temperature"),
            std::string::npos);
}

std::string field_error(const std::string& extra) {
  return error_of(R"({"model":"m","messages":[{"role":"user","content":"x"}])" + extra + "}");
}

// Issue 14, fault 2: every accepted field is validated the way OpenAI-compatible servers do.
TEST(ChatRequest, ValidatesEveryAcceptedField) {
  EXPECT_NE(field_error(R"(,"logit_bias":{"abc":1})").find("logit_bias"), std::string::npos);
  EXPECT_NE(field_error(R"(,"logit_bias":{"5":101})").find("[-100, 100]"), std::string::npos);
  EXPECT_NE(field_error(R"(,"logit_bias":[1])").find("logit_bias"), std::string::npos);
  EXPECT_NE(field_error(R"(,"response_format":{"type":"yaml"})").find("response_format"), std::string::npos);
  EXPECT_NE(field_error(R"(,"response_format":{"type":"json_schema"})").find("json_schema"),
            std::string::npos);
  EXPECT_NE(field_error(R"(,"response_format":"json")").find("response_format"), std::string::npos);
  EXPECT_NE(field_error(R"(,"seed":1.5)").find("seed"), std::string::npos);
  EXPECT_NE(field_error(R"(,"seed":36893488147419103232)").find("64 bits"), std::string::npos);
  EXPECT_NE(field_error(R"(,"stream_options":{"include_usage":true})").find("only allowed when \"stream\""),
            std::string::npos);
  EXPECT_NE(field_error(R"(,"stop":["a","b","c","d","e"])").find("at most 4"), std::string::npos);
  EXPECT_NE(field_error(R"(,"stop":[""])").find("stop"), std::string::npos);
  EXPECT_NE(field_error(R"(,"stop":5)").find("stop"), std::string::npos);
  EXPECT_NE(field_error(R"(,"n":0)").find("\"n\""), std::string::npos);
  EXPECT_NE(field_error(R"(,"n":129)").find("\"n\""), std::string::npos);
  EXPECT_NE(field_error(R"(,"top_p":1.5)").find("top_p"), std::string::npos);
  EXPECT_NE(field_error(R"(,"presence_penalty":-3)").find("presence_penalty"), std::string::npos);
  EXPECT_NE(field_error(R"(,"frequency_penalty":"x")").find("frequency_penalty"), std::string::npos);
  EXPECT_NE(field_error(R"(,"top_logprobs":3)").find("logprobs"), std::string::npos);
  EXPECT_NE(field_error(R"(,"tools":{})").find("tools"), std::string::npos);
  EXPECT_NE(field_error(R"(,"user":5)").find("user"), std::string::npos);

  auto ok = parse_chat_request(
      R"({"model":"m","messages":[{"role":"user","content":"x"}],"seed":18446744073709551615,
      "n":3,"stop":"end","logit_bias":{"50256":-100},"response_format":{"type":"json_schema","json_schema":{"name":"a",
      "schema":{"type":"object"}}},"top_p":0.9,"presence_penalty":1,"frequency_penalty":-1,"stream":true,
      "stream_options":{"include_usage":false}})");
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->seed, 18446744073709551615u);
  EXPECT_EQ(ok->n, 3);
  EXPECT_EQ(ok->stop, std::vector<std::string>{"end"});
  EXPECT_DOUBLE_EQ(ok->top_p, 0.9);
  auto negative = parse_chat_request(R"({"model":"m","messages":[{"role":"user","content":"x"}],"seed":-1})");
  ASSERT_TRUE(negative.ok());
  EXPECT_EQ(negative->seed, 18446744073709551615u);
}

TEST(TokenizeRequest, NeedsExactlyOneOfPromptOrMessages) {
  EXPECT_TRUE(parse_tokenize_request(R"({"model":"m","prompt":"hi"})").ok());
  EXPECT_TRUE(parse_tokenize_request(R"({"model":"m","messages":[{"role":"user","content":"hi"}]})").ok());
  EXPECT_FALSE(parse_tokenize_request(R"({"model":"m"})").ok());
  EXPECT_FALSE(
      parse_tokenize_request(R"({"model":"m","prompt":"a","messages":[{"role":"user","content":"hi"}]})")
          .ok());
  EXPECT_FALSE(parse_tokenize_request(R"({"prompt":"a"})").ok());
}

}  // namespace
}  // namespace mlnode::backends
