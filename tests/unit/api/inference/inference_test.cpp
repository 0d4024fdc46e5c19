// Pure parts of the inference path (src/api/inference): request validation, API keys, the signed hop,
// per-node slots, the relay's rewriting/hashing and the escrow arithmetic.
#include <gtest/gtest.h>

#include <limits>
#include <nlohmann/json.hpp>

#include "api/inference/chat_request.h"
#include "api/inference/hop_signature.h"
#include "api/inference/node_pool.h"
#include "api/inference/openai_error.h"
#include "api/inference/relay.h"
#include "common/bytes.h"
#include "common/hash.h"

namespace api::inference {
namespace {

using nlohmann::json;

std::optional<ChatRequest> parse(const std::string& text, RequestError& e) {
  return parse_chat_request(text, e);
}

TEST(CanonicalJson, OnlyTheDumpFormPasses) {
  const json body = {{"model", "m"},
                     {"messages", json::array({{{"role", "user"}, {"content", "h\u00e9 \"x\""}}})}};
  EXPECT_TRUE(is_canonical_json(body.dump()));
  EXPECT_FALSE(is_canonical_json(body.dump(1)));                                  // whitespace
  EXPECT_FALSE(is_canonical_json(R"({"messages":[],"model":"m"} )"));             // trailing space
  EXPECT_FALSE(is_canonical_json(R"({"model":"m","messages":[]})"));              // key order
  EXPECT_FALSE(is_canonical_json(R"({"messages":[],"model":"\u006d"})"));         // needless escape
  EXPECT_FALSE(is_canonical_json(R"({"messages":[],"model":"m","model":"m"})"));  // duplicate key
  EXPECT_FALSE(is_canonical_json("{not json"));
  EXPECT_TRUE(is_canonical_json(R"({"messages":[],"model":"m"})"));
}

TEST(ChatRequest, AcceptsAnOpenAiRequestAndReadsTheBudget) {
  RequestError e;
  auto r = parse(R"({"model":"m/x","messages":[{"role":"user","content":"hi"}],"max_tokens":7,"stream":true,
                     "stream_options":{"include_usage":true},"temperature":0.2})",
                 e);
  ASSERT_TRUE(r) << e.message;
  EXPECT_EQ(r->model, "m/x");
  EXPECT_TRUE(r->stream);
  EXPECT_TRUE(r->include_usage);
  EXPECT_EQ(r->max_tokens, 7u);
  EXPECT_EQ(r->body["temperature"], 0.2);  // other fields pass through
  r = parse(
      R"({"model":"m","messages":[{"role":"user","content":null}],"max_tokens":9,"max_completion_tokens":3})",
      e);
  ASSERT_TRUE(r) << e.message;
  EXPECT_EQ(r->max_tokens, 3u);  // max_completion_tokens wins
  r = parse(R"({"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"a"}]}]})", e);
  ASSERT_TRUE(r) << e.message;
  EXPECT_FALSE(r->max_tokens);
  EXPECT_FALSE(r->stream);
}

TEST(ChatRequest, RefusesMalformedInputNamingTheField) {
  struct Case {
    std::string body, code, fragment;
  };
  const std::vector<Case> cases = {
      {"{not json", "invalid_json", "not valid JSON"},
      {"[1]", "invalid_json", "JSON object"},
      {R"({"messages":[{"role":"user","content":"x"}]})", "missing_field", "model is required"},
      {R"({"model":"","messages":[{"role":"user","content":"x"}]})", "invalid_value", "model must be"},
      {R"({"model":7,"messages":[{"role":"user","content":"x"}]})", "invalid_value", "model must be"},
      {R"({"model":"m"})", "missing_field", "messages is required"},
      {R"({"model":"m","messages":[]})", "invalid_value", "messages must be"},
      {R"({"model":"m","messages":["x"]})", "invalid_value", "messages[0] must be an object"},
      {R"({"model":"m","messages":[{"content":"x"}]})", "invalid_value", "messages[0].role"},
      {R"({"model":"m","messages":[{"role":"user","content":5}]})", "invalid_value", "messages[0].content"},
      {R"({"model":"m","messages":[{"role":"user","content":"x"}],"stream":"yes"})", "invalid_value",
       "stream must"},
      {R"({"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":0})", "invalid_value",
       "max_tokens"},
      {R"({"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":-1})", "invalid_value",
       "max_tokens"},
      {R"({"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":1.5})", "invalid_value",
       "max_tokens"},
      {R"({"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":100000001})", "invalid_value",
       "max_tokens"},
      {R"({"model":"m","messages":[{"role":"user","content":"x"}],"stream_options":{"include_usage":1}})",
       "invalid_value", "include_usage"},
  };
  for (const auto& c : cases) {
    RequestError e;
    EXPECT_FALSE(parse(c.body, e)) << c.body;
    EXPECT_EQ(e.status, 400) << c.body;
    EXPECT_EQ(e.code, c.code) << c.body;
    EXPECT_NE(e.message.find(c.fragment), std::string::npos) << c.body << " -> " << e.message;
  }
}

TEST(ApiKeys, BearerParsingAndExactMatch) {
  EXPECT_EQ(bearer_token("Bearer abc"), "abc");
  EXPECT_EQ(bearer_token("bearer abc"), "abc");
  EXPECT_EQ(bearer_token("Basic abc"), "");
  EXPECT_EQ(bearer_token("Bearer "), "");
  EXPECT_EQ(bearer_token(""), "");
  std::vector<std::string> keys = {"key-one-1234", "key-two-5678"};
  EXPECT_TRUE(api_key_allowed("key-two-5678", keys));
  EXPECT_FALSE(api_key_allowed("key-two-567", keys));
  EXPECT_FALSE(api_key_allowed("key-two-56789", keys));
  EXPECT_FALSE(api_key_allowed("", keys));
  EXPECT_FALSE(api_key_allowed("", {""}));  // an empty configured key never matches
}

TEST(HopSignature, SignedForwardVerifiesAndAnyChangeFails) {
  auto key = common::secp256k1::generate_private_key();
  std::string pub = common::secp256k1::public_key(key);
  std::string body = R"({"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":5})";
  auto headers = sign_forward(key, "gonka1ta", "chatcmpl-1", 1000000, "gonka1exec", body);
  net::Request req;
  req.headers = headers;
  std::string err;
  auto h = read_forward_headers(req, err);
  ASSERT_TRUE(h) << err;
  EXPECT_EQ(h->inference_id, "chatcmpl-1");
  EXPECT_EQ(h->transfer_agent, "gonka1ta");
  EXPECT_EQ(h->timestamp_ms, 1000000);
  using std::chrono::milliseconds;
  EXPECT_EQ(verify_forward(*h, pub, "gonka1exec", body, 1000500, milliseconds(30000)), "");
  EXPECT_NE(verify_forward(*h, pub, "gonka1other", body, 1000500, milliseconds(30000)),
            "");  // another executor
  EXPECT_NE(verify_forward(*h, pub, "gonka1exec", body + " ", 1000500, milliseconds(30000)),
            "");  // other body
  EXPECT_NE(verify_forward(*h, pub, "gonka1exec", body, 1000000 + 30001, milliseconds(30000)), "");  // stale
  EXPECT_NE(verify_forward(*h, pub, "gonka1exec", body, 1000000 - 30001, milliseconds(30000)), "");  // future
  auto other = common::secp256k1::public_key(common::secp256k1::generate_private_key());
  EXPECT_NE(verify_forward(*h, other, "gonka1exec", body, 1000500, milliseconds(30000)), "");  // another key
  EXPECT_NE(verify_forward(*h, "", "gonka1exec", body, 1000500, milliseconds(30000)), "");  // no key on chain
  // The hash covers id, timestamp, executor and body: each changes it.
  std::string base = forward_sign_hash("a", 1, "e", "b");
  EXPECT_NE(base, forward_sign_hash("b", 1, "e", "b"));
  EXPECT_NE(base, forward_sign_hash("a", 2, "e", "b"));
  EXPECT_NE(base, forward_sign_hash("a", 1, "f", "b"));
  EXPECT_NE(base, forward_sign_hash("a", 1, "e", "c"));
}

TEST(HopSignature, TokenizeHopVerifiesAndIsNotAForward) {
  auto key = common::secp256k1::generate_private_key();
  std::string pub = common::secp256k1::public_key(key);
  std::string body = R"({"model":"m","messages":[{"role":"user","content":"x"}]})";
  net::Request req;
  req.headers = sign_tokenize(key, "gonka1ta", 1000000, "gonka1exec", body);
  std::string err;
  EXPECT_FALSE(read_forward_headers(req, err));  // no X-Inference-Id: not an executor request
  EXPECT_TRUE(err.empty());
  auto h = read_tokenize_headers(req, err);
  ASSERT_TRUE(h) << err;
  using std::chrono::milliseconds;
  EXPECT_EQ(verify_tokenize(*h, pub, "gonka1exec", body, 1000500, milliseconds(30000)), "");
  EXPECT_NE(verify_tokenize(*h, pub, "gonka1other", body, 1000500, milliseconds(30000)), "");
  EXPECT_NE(verify_tokenize(*h, pub, "gonka1exec", body + " ", 1000500, milliseconds(30000)), "");
  EXPECT_NE(verify_tokenize(*h, pub, "gonka1exec", body, 1000000 + 30001, milliseconds(30000)), "");
  // Domain separation: a tokenize signature never verifies as a forward of the same body (any id).
  ForwardHeaders as_forward = *h;
  as_forward.inference_id = "";
  EXPECT_NE(verify_forward(as_forward, pub, "gonka1exec", body, 1000500, milliseconds(30000)), "");
  EXPECT_NE(tokenize_sign_hash(1, "e", "b"), forward_sign_hash("", 1, "e", "b"));
  req.headers.erase(kHeaderSignature);
  EXPECT_FALSE(read_tokenize_headers(req, err));
  EXPECT_NE(err.find("X-TA-Signature"), std::string::npos);
}

TEST(HopSignature, MalformedHeadersAreRefusedAndAbsentOnesMeanTransferAgent) {
  net::Request req;
  std::string err;
  EXPECT_FALSE(read_forward_headers(req, err));
  EXPECT_TRUE(err.empty());
  req.headers = {{kHeaderInferenceId, "id"},
                 {kHeaderTransferAgent, "ta"},
                 {kHeaderTimestamp, "12x"},
                 {kHeaderSignature, common::to_base64(std::string(64, 'a'))}};
  EXPECT_FALSE(read_forward_headers(req, err));
  EXPECT_NE(err.find("X-Timestamp"), std::string::npos);
  req.headers[kHeaderTimestamp] = "12";
  req.headers[kHeaderSignature] = common::to_base64(std::string(63, 'a'));
  EXPECT_FALSE(read_forward_headers(req, err));
  EXPECT_NE(err.find("X-TA-Signature"), std::string::npos);
  req.headers[kHeaderSignature] = common::to_base64(std::string(64, 'a'));
  req.headers.erase(kHeaderTransferAgent);
  EXPECT_FALSE(read_forward_headers(req, err));
  EXPECT_NE(err.find("X-Transfer-Agent"), std::string::npos);
}

TEST(NodePool, LeastLoadedBelowMaxConcurrentAndFreedOnRelease) {
  NodePool pool;
  std::vector<Candidate> c = {{"a", 2}, {"b", 1}};
  auto l1 = pool.acquire(c);
  ASSERT_TRUE(l1);
  EXPECT_EQ(l1->node_id(), "a");  // tie: candidate order
  auto l2 = pool.acquire(c);
  ASSERT_TRUE(l2);
  EXPECT_EQ(l2->node_id(), "b");  // least loaded
  auto l3 = pool.acquire(c);
  ASSERT_TRUE(l3);
  EXPECT_EQ(l3->node_id(), "a");  // b is full (max 1)
  EXPECT_FALSE(pool.acquire(c));  // every node full -> caller answers 429
  l2.reset();
  EXPECT_EQ(pool.in_flight("b"), 0u);
  auto l4 = pool.acquire(c);
  ASSERT_TRUE(l4);
  EXPECT_EQ(l4->node_id(), "b");
  l1.reset();
  l3.reset();
  l4.reset();
  auto pref = pool.acquire(c, "b");  // ties go to the preferred node (the chain's executor_node)
  ASSERT_TRUE(pref);
  EXPECT_EQ(pref->node_id(), "b");
  EXPECT_FALSE(pool.acquire({}));
}

TEST(Relay, WholeCompletionRewritesIdHashesContentAndTakesUsage) {
  CompletionRelay r("chatcmpl-x");
  json body = json::parse(R"({"id":"up-1","choices":[{"message":{"role":"assistant","content":"Red, "}},
                              {"message":{"content":"blue"}}],"usage":{"prompt_tokens":12,"completion_tokens":3}})");
  ASSERT_TRUE(r.whole(body));
  EXPECT_EQ(body["id"], "chatcmpl-x");
  EXPECT_EQ(r.usage()->prompt_tokens, 12u);
  EXPECT_EQ(r.usage()->completion_tokens, 3u);
  EXPECT_EQ(r.response_hash(), common::sha256("Red, blue"));
  CompletionRelay none("id");
  json no_usage = json::parse(R"({"id":"u","choices":[]})");
  EXPECT_FALSE(none.whole(no_usage));
  json bad_usage = json::parse(R"({"usage":{"prompt_tokens":-1,"completion_tokens":2}})");
  EXPECT_FALSE(none.whole(bad_usage));
}

TEST(Relay, StreamChunksConcatenateDeltasAndTheUsageChunk) {
  CompletionRelay r("chatcmpl-y");
  std::vector<json> chunks = {
      json::parse(R"({"id":"a","choices":[{"delta":{"role":"assistant"}}]})"),
      json::parse(R"({"id":"a","choices":[{"delta":{"content":"Re"}}]})"),
      json::parse(R"({"id":"a","choices":[{"delta":{"content":"d"},"finish_reason":"stop"}]})"),
      json::parse(
          R"({"id":"a","choices":[],"usage":{"prompt_tokens":4,"completion_tokens":2,"total_tokens":6}})")};
  for (auto& c : chunks) {
    r.chunk(c);
    EXPECT_EQ(c["id"], "chatcmpl-y");
  }
  EXPECT_EQ(r.response_hash(), common::sha256("Red"));
  ASSERT_TRUE(r.usage());
  EXPECT_EQ(r.usage()->prompt_tokens, 4u);
  EXPECT_EQ(r.usage()->completion_tokens, 2u);
}

TEST(Escrow, PromptPlusMaxTimesPriceWithOverflowRefused) {
  EXPECT_EQ(escrow_amount(20, 64, 1000), 84000u);
  EXPECT_EQ(escrow_amount(0, 0, 5), 0u);
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  EXPECT_FALSE(escrow_amount(kMax, 1, 1));
  EXPECT_FALSE(escrow_amount(1ull << 32, 1ull << 32, 1ull << 32));
  EXPECT_EQ(escrow_amount(kMax - 1, 1, 1), kMax);
}

TEST(OpenAiError, ShapeAndTypes) {
  auto r = openai_error(404, "model_not_found", "no such model");
  EXPECT_EQ(r.status, 404);
  auto j = json::parse(r.body);
  EXPECT_EQ(j["error"]["message"], "no such model");
  EXPECT_EQ(j["error"]["type"], "invalid_request_error");
  EXPECT_EQ(j["error"]["code"], "model_not_found");
  EXPECT_TRUE(j["error"]["param"].is_null());
  EXPECT_EQ(error_type_for(401), "authentication_error");
  EXPECT_EQ(error_type_for(402), "insufficient_quota");
  EXPECT_EQ(error_type_for(429), "rate_limit_error");
  EXPECT_EQ(error_type_for(502), "server_error");
}

}  // namespace
}  // namespace api::inference
