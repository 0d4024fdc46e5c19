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

const Cancelled never = [] { return false; };

ChatRequest parse(const std::string& body) {
  auto r = parse_chat_request(body);
  EXPECT_TRUE(r.ok()) << body;
  return *r;
}

ChatRequest with(const std::string& extra) {
  return parse(
      R"({"model":"m","messages":[{"role":"user","content":"List some words."}],"seed":7,"max_tokens":40)" +
      extra + "}");
}

nlohmann::json answer(BuiltinBackend& backend, const ChatRequest& r, int expected_status = 200) {
  RecordingWriter w;
  backend.chat(r, "", w, never);
  EXPECT_EQ(w.status, expected_status) << w.body;
  return nlohmann::json::parse(w.body);
}

std::string error_message(BuiltinBackend& backend, const ChatRequest& r) {
  return answer(backend, r, 400)["error"]["message"];
}

ChatRequest request(bool stream) {
  auto r = parse_chat_request(
      std::string(R"({"model":"m","messages":[{"role":"user","content":"hello there"}],)") +
      (stream ? R"("stream_options":{"include_usage":true},"stream":true})" : R"("stream":false})"));
  EXPECT_TRUE(r.ok());
  return *r;
}

TEST(BuiltinBackend, NonStreamingAnswerIsDeterministicWithUsage) {
  Metrics metrics;
  BuiltinBackend backend({}, metrics);
  ASSERT_TRUE(backend.up("m", {}, never).ok());
  RecordingWriter a, b;
  backend.chat(request(false), "", a, never);
  backend.chat(request(false), "", b, never);
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
  ASSERT_TRUE(backend.up("m", {}, never).ok());
  RecordingWriter whole, streamed;
  backend.chat(request(false), "", whole, never);
  backend.chat(request(true), "", streamed, never);
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
  ASSERT_TRUE(backend.up("m", {}, never).ok());
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
      if (d.find("[DONE]") != std::string::npos)
        --running;  // the last write of a stream, just before the slot frees
      return RecordingWriter::write(d);
    }
    std::atomic<int>& running;
    std::atomic<int>& peak;
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&] {
      PeakWriter w(running, peak);
      backend.chat(request(true), "", w, never);
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
  ASSERT_TRUE(backend.up("m", {}, never).ok());
  EXPECT_EQ(nlohmann::json::parse(backend.models().body)["data"][0]["id"], "m");
  auto tok = parse_tokenize_request(R"({"model":"m","prompt":"one two three"})");
  ASSERT_TRUE(tok.ok());
  EXPECT_EQ(nlohmann::json::parse(backend.tokenize(*tok, "").body)["count"], 3);
  backend.down();
  EXPECT_FALSE(backend.healthy());
}

// Issue 14, fault 2 (repros/stop_sequences.sh): "stop" was accepted and ignored.
TEST(BuiltinBackend, StopSequencesEndTheTextStreamedOrNot) {
  Metrics metrics;
  BuiltinBackend backend({}, metrics);
  ASSERT_TRUE(backend.up("m", {}, never).ok());
  const std::string text = answer(backend, with(""))["choices"][0]["message"]["content"];
  const auto words = tokenize_text(text);
  ASSERT_GT(words.size(), 4u);
  const std::string stop = words[3].substr(words[3].find_first_not_of(' '));  // a word this request produces
  const auto stopped = answer(backend, with(R"(,"stop":[")" + stop + R"("])"));
  const std::string cut = stopped["choices"][0]["message"]["content"];
  EXPECT_EQ(cut, text.substr(0, text.find(stop)));
  EXPECT_EQ(stopped["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(stopped["usage"]["completion_tokens"].get<std::size_t>(), tokenize_text(cut).size());

  RecordingWriter streamed;
  backend.chat(with(R"(,"stop":")" + stop + R"(","stream":true)"), "", streamed, never);
  std::string joined;
  net::SseParser parser;
  for (const auto& e : parser.feed(streamed.body)) {
    if (e.data == "[DONE]") continue;
    const auto chunk = nlohmann::json::parse(e.data);
    for (const auto& c : chunk["choices"]) joined += c["delta"].value("content", "");
  }
  EXPECT_EQ(joined, cut) << streamed.body;
}

TEST(BuiltinBackend, NSeedAndTemperatureChangeTheDraw) {
  Metrics metrics;
  BuiltinBackend backend({}, metrics);
  ASSERT_TRUE(backend.up("m", {}, never).ok());
  const auto three = answer(backend, with(R"(,"n":3)"));
  ASSERT_EQ(three["choices"].size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(three["choices"][i]["index"], i);
  EXPECT_NE(three["choices"][0]["message"]["content"], three["choices"][1]["message"]["content"]);
  EXPECT_EQ(three["choices"][0], answer(backend, with(""))["choices"][0]) << "choice 0 is the n=1 answer";
  const auto content = [&](const std::string& extra) {
    return answer(backend, with(extra))["choices"][0]["message"]["content"].get<std::string>();
  };
  EXPECT_NE(content(R"(,"temperature":0.5)"), content(""));
  EXPECT_NE(content(R"(,"seed":8)"), content(""));
  // Greedy: one answer whatever the seed, and every choice is it.
  EXPECT_EQ(content(R"(,"temperature":0,"seed":1)"), content(R"(,"temperature":0,"seed":2)"));
  const auto greedy = answer(backend, with(R"(,"temperature":0,"n":2)"));
  EXPECT_EQ(greedy["choices"][0]["message"], greedy["choices"][1]["message"]);
}

TEST(BuiltinBackend, RefusesWhatItCannotHonourNamingTheField) {
  Metrics metrics;
  BuiltinBackend backend({}, metrics);
  ASSERT_TRUE(backend.up("m", {}, never).ok());
  EXPECT_NE(error_message(backend, with(R"(,"top_p":0.5)")).find("\"top_p\""), std::string::npos);
  EXPECT_NE(error_message(backend, with(R"(,"presence_penalty":1)")).find("\"presence_penalty\""),
            std::string::npos);
  EXPECT_NE(error_message(backend, with(R"(,"logit_bias":{"5":10})")).find("\"logit_bias\""),
            std::string::npos);
  EXPECT_NE(error_message(backend, with(R"(,"response_format":{"type":"json_object"})"))
                .find("\"response_format\""),
            std::string::npos);
  EXPECT_NE(error_message(backend, with(R"(,"top_k":5)")).find("\"top_k\""), std::string::npos);
  // Values that change nothing are accepted.
  answer(
      backend,
      with(
          R"(,"top_p":1,"presence_penalty":0,"logit_bias":{},"response_format":{"type":"text"},"user":"u")"));
  EXPECT_EQ(metrics.completion_tokens.load() > 0, true);
}

// Issue 14, fault 1 (repros/context_window.sh): requests beyond the advertised max_model_len were served.
TEST(BuiltinBackend, EnforcesTheAdvertisedContextWindow) {
  Metrics metrics;
  BuiltinBackend backend({}, metrics);
  ASSERT_TRUE(backend.up("m", {}, never).ok());
  std::string words;
  for (int i = 0; i < 40000; ++i) words += " alpha";
  const auto long_prompt =
      parse(R"({"model":"m","max_tokens":16,"messages":[{"role":"user","content":")" + words + R"("}]})");
  const std::string m1 = error_message(backend, long_prompt);
  EXPECT_NE(m1.find("32768"), std::string::npos) << m1;
  const auto no_max = parse(R"({"model":"m","messages":[{"role":"user","content":")" + words + R"("}]})");
  EXPECT_NE(error_message(backend, no_max).find("max_model_len"), std::string::npos);
  const auto big = parse(R"({"model":"m","max_tokens":1000000,"messages":[{"role":"user","content":"hi"}]})");
  const std::string m2 = error_message(backend, big);
  EXPECT_NE(m2.find("max_tokens"), std::string::npos) << m2;
  EXPECT_NE(m2.find("32768"), std::string::npos) << m2;
  // Exactly at the limit is fine.
  const auto prompt_tokens = static_cast<int64_t>(tokenize_text(render_chat({{"user", "hi"}})).size());
  answer(backend, parse(R"({"model":"m","max_tokens":)" + std::to_string(kMaxModelLen - prompt_tokens) +
                        R"(,"messages":[{"role":"user","content":"hi"}]})"));
}

// Issue 14, fault 3 (repros/abort_on_disconnect.sh): an abandoned non-streamed request kept its slot.
TEST(BuiltinBackend, CancellationFreesTheSlotOfANonStreamedRequest) {
  Metrics metrics;
  BuiltinOptions options;
  options.batch_slots = 1;
  options.tokens_per_second = 2;  // a 40-token answer takes 20 s
  BuiltinBackend backend(options, metrics);
  ASSERT_TRUE(backend.up("m", {}, never).ok());
  std::atomic<bool> gone{false};
  RecordingWriter abandoned;
  const auto start = std::chrono::steady_clock::now();
  std::thread t([&] { backend.chat(with(""), "", abandoned, [&] { return gone.load(); }); });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  gone = true;
  t.join();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  EXPECT_EQ(abandoned.status, 0) << "nothing is written for a client that left";
  // The slot is free: a short request is answered at once.
  RecordingWriter next;
  auto one = with("");
  one.max_tokens = 1;
  backend.chat(one, "", next, never);
  EXPECT_EQ(next.status, 200);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
}

// Issue 14, fault 5: a stop that came before up() started must not be lost.
TEST(BuiltinBackend, UpSeesACancellationThatCameBeforeIt) {
  Metrics metrics;
  BuiltinOptions options;
  options.load_time = std::chrono::minutes(1);
  BuiltinBackend backend(options, metrics);
  const auto start = std::chrono::steady_clock::now();
  auto st = backend.up("m", {}, [] { return true; });
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, 409u);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  EXPECT_FALSE(backend.model().has_value());
}

}  // namespace
}  // namespace mlnode::backends
