#include "mlnode/backends/builtin_backend.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "mlnode/backends/tokenizer.h"

namespace mlnode::backends {
namespace {

// Collects what a handler writes.
class RecordingWriter : public net::ResponseWriter {
 public:
  bool begin(int status, const std::string& content_type, const net::Headers&) override {
    this->status = status;
    this->content_type = content_type;
    return true;
  }
  bool write(const std::string& data) override {
    body += data;
    return true;
  }
  bool closed() const override { return false; }
  int status = 0;
  std::string content_type, body;
};

ChatRequest request(bool stream) {
  auto r = parse_chat_request(std::string(R"({"model":"m","messages":[{"role":"user","content":"hello there"}],)") +
                              R"("stream_options":{"include_usage":true},"stream":)" + (stream ? "true" : "false") + "}");
  EXPECT_TRUE(r.ok());
  return *r;
}

TEST(BuiltinBackend, NonStreamingAnswerIsDeterministicWithUsage) {
  Metrics metrics;
  BuiltinBackend backend({}, metrics);
  ASSERT_TRUE(backend.up("m", {}).ok());
  RecordingWriter a, b;
  backend.chat(request(false), "", a);
  backend.chat(request(false), "", b);
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.content_type, "application/json");
  auto ja = nlohmann::json::parse(a.body), jb = nlohmann::json::parse(b.body);
  EXPECT_EQ(ja["choices"], jb["choices"]);
  const std::string content = ja["choices"][0]["message"]["content"];
  EXPECT_EQ(ja["usage"]["completion_tokens"].get<std::size_t>(), tokenize_text(content).size());
  EXPECT_EQ(metrics.completion_tokens.load(), 2 * tokenize_text(content).size());
}

TEST(BuiltinBackend, StreamCarriesTheSameTextThenUsageThenDone) {
  Metrics metrics;
  BuiltinBackend backend({}, metrics);
  ASSERT_TRUE(backend.up("m", {}).ok());
  RecordingWriter whole, streamed;
  backend.chat(request(false), "", whole);
  backend.chat(request(true), "", streamed);
  EXPECT_EQ(streamed.content_type, "text/event-stream");
  net::SseParser parser;
  std::string text;
  nlohmann::json usage;
  bool done = false;
  for (const auto& e : parser.feed(streamed.body)) {
    if (e.data == "[DONE]") {
      done = true;
      continue;
    }
    auto j = nlohmann::json::parse(e.data);
    if (j.contains("usage")) usage = j["usage"];
    for (const auto& c : j["choices"]) text += c["delta"].value("content", "");
  }
  EXPECT_TRUE(done);
  const auto expected = nlohmann::json::parse(whole.body);
  EXPECT_EQ(text, expected["choices"][0]["message"]["content"]);
  EXPECT_EQ(usage, expected["usage"]);
}

TEST(BuiltinBackend, BatchSlotsLimitConcurrentGenerations) {
  Metrics metrics;
  BuiltinOptions options;
  options.batch_slots = 2;
  options.time_to_first_token = std::chrono::milliseconds(30);
  BuiltinBackend backend(options, metrics);
  ASSERT_TRUE(backend.up("m", {}).ok());
  std::atomic<int> running{0}, peak{0};
  class PeakWriter : public RecordingWriter {
   public:
    PeakWriter(std::atomic<int>& r, std::atomic<int>& p) : running(r), peak(p) {}
    bool begin(int s, const std::string& ct, const net::Headers& h) override {
      const int now = ++running;
      int old = peak.load();
      while (now > old && !peak.compare_exchange_weak(old, now)) {
      }
      return RecordingWriter::begin(s, ct, h);
    }
    bool write(const std::string& d) override {
      if (d.find("[DONE]") != std::string::npos) --running;  // the last write of a stream, just before the slot frees
      return RecordingWriter::write(d);
    }
    std::atomic<int>& running;
    std::atomic<int>& peak;
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&] {
      PeakWriter w(running, peak);
      backend.chat(request(true), "", w);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_LE(peak.load(), 2);
  EXPECT_GE(peak.load(), 1);
}

TEST(BuiltinBackend, ModelsAndTokenize) {
  Metrics metrics;
  BuiltinBackend backend({}, metrics);
  EXPECT_EQ(nlohmann::json::parse(backend.models().body)["data"].size(), 0u);
  ASSERT_TRUE(backend.up("m", {}).ok());
  EXPECT_EQ(nlohmann::json::parse(backend.models().body)["data"][0]["id"], "m");
  auto tok = parse_tokenize_request(R"({"model":"m","prompt":"one two three"})");
  ASSERT_TRUE(tok.ok());
  EXPECT_EQ(nlohmann::json::parse(backend.tokenize(*tok, "").body)["count"], 3);
  backend.down();
  EXPECT_FALSE(backend.healthy());
}

}  // namespace
}  // namespace mlnode::backends
