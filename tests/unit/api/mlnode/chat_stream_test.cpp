#include "api/mlnode/chat_stream.h"

#include <gtest/gtest.h>

#include "api/mlnode/mlnode_client.h"
#include "fake_mlnode.h"

namespace api::mlnode {
namespace {

using nlohmann::json;

std::string chunk(const std::string& content) {
  return json{{"object", "chat.completion.chunk"},
              {"choices", {{{"index", 0}, {"delta", {{"content", content}}}}}}}
      .dump();
}

std::string usage_chunk() {
  return json{{"object", "chat.completion.chunk"},
              {"choices", json::array()},
              {"usage", {{"prompt_tokens", 4}, {"completion_tokens", 3}, {"total_tokens", 7}}}}
      .dump();
}

class ChatStreamTest : public ::testing::Test {
 protected:
  FakeMlNode node;
  MlNodeClient client{node.inference_base(), node.poc_base(), "v3.0.8"};
  std::vector<std::string> received;

  Result<ChatStreamSummary> stream(size_t stop_after = SIZE_MAX) {
    return client.chat_completions_stream({{"model", "m"}, {"messages", json::array()}},
                                          [this, stop_after](const ChatChunk& c) {
                                            received.push_back(c.data);
                                            return received.size() < stop_after;
                                          });
  }
};

TEST_F(ChatStreamTest, DeliversChunksInOrderAndTheFinalUsage) {
  const std::vector<std::string> chunks = {chunk("one"), chunk(" two"), chunk(" three"), usage_chunk()};
  FakeReply reply;
  reply.sse_events = chunks;
  reply.sse_events.push_back("[DONE]");
  node.reply("POST /v1/chat/completions", reply);

  auto summary = stream();
  ASSERT_TRUE(summary.ok()) << summary.error().message;
  EXPECT_EQ(received, chunks);
  EXPECT_EQ(summary->chunks, 4u);
  ASSERT_TRUE(summary->usage.has_value());
  EXPECT_EQ(summary->usage->prompt_tokens, 4u);
  EXPECT_EQ(summary->usage->completion_tokens, 3u);
  EXPECT_FALSE(summary->cancelled);
  auto requests = node.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].path, "/v3.0.8/v1/chat/completions");
  EXPECT_EQ(json::parse(requests[0].body)["stream"], true);
}

TEST_F(ChatStreamTest, StopsReadingWhenTheHandlerReturnsFalse) {
  FakeReply reply;
  reply.sse_events = {chunk("one"), chunk(" two"), chunk(" three"), "[DONE]"};
  node.reply("POST /v1/chat/completions", reply);
  auto summary = stream(1);
  ASSERT_TRUE(summary.ok()) << summary.error().message;
  EXPECT_TRUE(summary->cancelled);
  EXPECT_EQ(received.size(), 1u);
}

TEST_F(ChatStreamTest, AStreamEndingBeforeDoneIsABadResponse) {
  FakeReply reply;
  reply.sse_events = {chunk("one")};
  node.reply("POST /v1/chat/completions", reply);
  auto summary = stream();
  ASSERT_FALSE(summary.ok());
  EXPECT_EQ(summary.error().kind, ErrorKind::kBadResponse);
  EXPECT_EQ(summary.error().message, "POST /v1/chat/completions: the stream ended before \"data: [DONE]\"");
}

TEST_F(ChatStreamTest, AChunkThatIsNotJsonIsABadResponse) {
  FakeReply reply;
  reply.sse_events = {chunk("one"), "{oops", "[DONE]"};
  node.reply("POST /v1/chat/completions", reply);
  auto summary = stream();
  ASSERT_FALSE(summary.ok());
  EXPECT_EQ(summary.error().kind, ErrorKind::kBadResponse);
  EXPECT_EQ(summary.error().message,
            "POST /v1/chat/completions: the body is not valid JSON (stream chunk 2)");
  EXPECT_EQ(received.size(), 1u);
}

TEST_F(ChatStreamTest, ARefusalBeforeStreamingCarriesTheOpenAiErrorMessage) {
  node.reply("POST /v1/chat/completions", {409, json{{"error",
                                                      {{"message", "the ML node is running POW"},
                                                       {"type", "invalid_request_error"},
                                                       {"param", nullptr},
                                                       {"code", "conflict"}}}}
                                                    .dump()});
  auto summary = stream();
  ASSERT_FALSE(summary.ok());
  EXPECT_TRUE(summary.error().busy());
  EXPECT_EQ(summary.error().remote_message, "the ML node is running POW");
  EXPECT_TRUE(received.empty());
}

TEST_F(ChatStreamTest, AnIdleStreamTimesOut) {
  MlNodeClientOptions options;
  options.timeouts.chat_idle = std::chrono::milliseconds(200);
  client = MlNodeClient(node.inference_base(), node.poc_base(), "v3.0.8", options);
  FakeReply reply;
  reply.sse_events = {"[DONE]"};
  reply.delay = std::chrono::seconds(10);
  node.reply("POST /v1/chat/completions", reply);
  auto summary = stream();
  ASSERT_FALSE(summary.ok());
  EXPECT_EQ(summary.error().kind, ErrorKind::kTimeout);
}

}  // namespace
}  // namespace api::mlnode
