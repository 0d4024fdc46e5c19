// The executor's payload recording (payload.h, payload_store.h), the payload request signature and the
// validator loop's decisions (validator.h) with fake chain, executor and MLNode.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <random>

#include "api/validation/payload.h"
#include "api/validation/payload_endpoint.h"
#include "api/validation/payload_store.h"
#include "api/validation/validator.h"
#include "common/bytes.h"
#include "common/hash.h"

namespace api::validation {
namespace {

using nlohmann::json;

class TempDir {
 public:
  TempDir() {
    path_ = std::filesystem::temp_directory_path() /
            ("validation_test_" + std::to_string(std::random_device{}()) + std::to_string(std::rand()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

json completion(const std::vector<std::pair<std::string, double>>& tokens) {
  json lp = json::array();
  std::string text;
  for (const auto& [t, l] : tokens) {
    lp.push_back(
        {{"token", t}, {"logprob", l}, {"top_logprobs", json::array({{{"token", t}, {"logprob", l}}})}});
    text += t;
  }
  return {{"id", "x"},
          {"choices", json::array({{{"index", 0},
                                    {"message", {{"role", "assistant"}, {"content", text}}},
                                    {"logprobs", {{"content", lp}}}}})},
          {"usage", {{"prompt_tokens", 3}, {"completion_tokens", tokens.size()}}}};
}

const json kRequest =
    json::parse(R"({"max_tokens":8,"messages":[{"content":"hi","role":"user"}],"model":"m"})");

TEST(PayloadRecording, TurnsLogprobsOnRecordsAndStripsThemWhenTheClientDidNotAsk) {
  json body = kRequest;
  PayloadRecording rec("inf-1", body);
  EXPECT_EQ(body["logprobs"], true);
  EXPECT_EQ(body["top_logprobs"], kTopLogprobs);
  json out = completion({{"Hi", -0.5}, {" there", -1.0}});
  rec.whole(out);
  EXPECT_TRUE(out["choices"][0]["logprobs"].is_null());  // the client did not ask
  EXPECT_EQ(out["choices"][0]["message"]["content"], "Hi there");
  Payload p = rec.payload(body, 42);
  EXPECT_EQ(p.prompt, kRequest.dump());  // what the transfer agent hashed into prompt_hash
  EXPECT_EQ(p.content, "Hi there");
  ASSERT_EQ(p.logprobs.size(), 2u);
  EXPECT_EQ(p.logprobs[1].token, " there");
  EXPECT_EQ(p.recorded_height, 42u);
  EXPECT_EQ(p.mlnode_request["logprobs"], true);
}

TEST(PayloadRecording, KeepsLogprobsTheClientAskedForAndRecordsStreamChunks) {
  json body = kRequest;
  body["logprobs"] = true;
  body["stream"] = true;
  PayloadRecording rec("inf-2", body);
  EXPECT_FALSE(body.contains("top_logprobs"));  // the client's request stays as it asked
  for (const char* t : {"A", " b"}) {
    json chunk = {
        {"choices", json::array({{{"index", 0},
                                  {"delta", {{"content", t}}},
                                  {"logprobs", {{"content", {{{"token", t}, {"logprob", -0.1}}}}}}}})}};
    rec.chunk(chunk);
    EXPECT_TRUE(chunk["choices"][0]["logprobs"].is_object());
  }
  json usage_chunk = {{"choices", json::array()}, {"usage", {{"prompt_tokens", 1}}}};
  rec.chunk(usage_chunk);
  Payload p = rec.payload(body, 1);
  EXPECT_EQ(p.content, "A b");
  EXPECT_EQ(p.logprobs.size(), 2u);
}

TEST(PayloadRecording, TheTestFaultReversesEveryTokenConsistently) {
  json body = kRequest;
  PayloadRecording rec("inf-3", body, OutputFault::kReverseTokens);
  json out = completion({{"Hi", -0.5}, {" there", -1.0}});
  rec.whole(out);
  EXPECT_EQ(out["choices"][0]["message"]["content"], "iHereht ");
  Payload p = rec.payload(body, 1);
  EXPECT_EQ(p.content, "iHereht ");
  EXPECT_EQ(p.logprobs[0].token, "iH");
  EXPECT_DOUBLE_EQ(p.logprobs[0].logprob, -0.5);  // the values it claims are those of the real tokens
}

TEST(PayloadRecording, MalformedLogprobsLeaveThePayloadWithoutLogprobs) {
  json body = kRequest;
  PayloadRecording rec("inf-4", body);
  json out = completion({{"Hi", -0.5}});
  out["choices"][0]["logprobs"]["content"][0]["logprob"] = "high";
  rec.whole(out);
  EXPECT_FALSE(rec.logprobs_ok());
  EXPECT_TRUE(rec.payload(body, 1).logprobs.empty());
}

TEST(TestFault, IsIgnoredUnlessExplicitlyEnabled) {
  ::setenv(kFaultEnv, "reverse_tokens", 1);
  ::unsetenv(kFaultEnableEnv);
  EXPECT_EQ(output_fault_from_env(), OutputFault::kNone);
  ::setenv(kFaultEnableEnv, "1", 1);
  EXPECT_EQ(output_fault_from_env(), OutputFault::kNone);
  ::setenv(kFaultEnableEnv, kFaultEnableValue, 1);
  EXPECT_EQ(output_fault_from_env(), OutputFault::kReverseTokens);
  ::setenv(kFaultEnv, "something_else", 1);
  EXPECT_EQ(output_fault_from_env(), OutputFault::kNone);
  ::unsetenv(kFaultEnv);
  ::unsetenv(kFaultEnableEnv);
}

TEST(ReplayRequest, ForcesTheContentWithLogprobsNonStreamed) {
  json prompt = kRequest;
  prompt["stream"] = true;
  prompt["stream_options"] = {{"include_usage", true}};
  prompt["seed"] = 7;
  auto r = replay_request(prompt.dump(), "Hi there");
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)["enforced_str"], "Hi there");
  EXPECT_EQ((*r)["stream"], false);
  EXPECT_FALSE(r->contains("stream_options"));
  EXPECT_EQ((*r)["logprobs"], true);
  EXPECT_EQ((*r)["seed"], 7);  // the executor's sampling context is kept
  prompt["n"] = 2;
  EXPECT_FALSE(replay_request(prompt.dump(), "x"));
  EXPECT_FALSE(replay_request("[1]", "x"));
}

TEST(PayloadStore, RecordsGetsAndPrunesPastTheKeepWindow) {
  TempDir dir;
  auto store = state::StateStore::open(dir.path());
  ASSERT_TRUE(store);
  PayloadStore payloads(**store);
  payloads.set_chain(100, true, 20, 30);  // keep 2*20+30+10 = 80 blocks (a deadline moved past a PoC)
  json body = kRequest;
  auto rec = payloads.begin("inf-a", body);
  ASSERT_TRUE(rec);
  json out = completion({{"x", -1}});
  rec->whole(out);
  payloads.record(*rec, body);
  auto got = payloads.get("inf-a");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->content, "x");
  EXPECT_EQ(got->recorded_height, 100u);
  EXPECT_EQ(payloads.prune(180), 0u);
  EXPECT_EQ(payloads.prune(181), 1u);
  EXPECT_FALSE(payloads.get("inf-a"));
  payloads.set_chain(200, false, 20, 30);  // validation off: nothing recorded
  EXPECT_FALSE(payloads.begin("inf-b", body));
}

TEST(PayloadSignature, BindsIdTimestampAndExecutor) {
  auto key = common::secp256k1::generate_private_key();
  auto h = sign_payload_request(key, "val", "inf-1", 1000, "exec");
  auto sig = common::from_base64(h[kHeaderValidatorSignature]);
  ASSERT_TRUE(sig);
  std::string s(sig->begin(), sig->end());
  auto pub = common::secp256k1::public_key(key);
  EXPECT_TRUE(common::secp256k1::verify(pub, payload_sign_hash("inf-1", 1000, "exec"), s));
  EXPECT_FALSE(common::secp256k1::verify(pub, payload_sign_hash("inf-2", 1000, "exec"), s));
  EXPECT_FALSE(common::secp256k1::verify(pub, payload_sign_hash("inf-1", 1001, "exec"), s));
  EXPECT_FALSE(common::secp256k1::verify(pub, payload_sign_hash("inf-1", 1000, "other"), s));
  EXPECT_TRUE(valid_inference_id("chatcmpl-0123abcd"));
  EXPECT_FALSE(valid_inference_id("a/b"));
  EXPECT_FALSE(valid_inference_id(""));
  EXPECT_FALSE(valid_inference_id(std::string(129, 'a')));
}

// ---------------------------------------------------------------- the validator loop

struct FakeChain : ValidatorChain {
  std::map<std::string, InferenceRecord> records;
  bool down = false;
  common::Result<InferenceRecord> inference(const std::string& id) override {
    if (down) return common::make_error(503, "chain down");
    auto it = records.find(id);
    if (it == records.end()) return common::make_error(kNotFound, "unknown");
    return it->second;
  }
  common::Result<std::string> participant_url(const std::string& a) override { return "http://" + a; }
  common::Result<double> validation_threshold(const std::string&) override { return 0.98; }
};

struct FakeFetcher : PayloadFetcher {
  std::map<std::string, Payload> payloads;
  uint32_t error = 404;
  int calls = 0;
  common::Result<Payload> fetch(const std::string&, const std::string&, const std::string& id) override {
    ++calls;
    auto it = payloads.find(id);
    if (it == payloads.end()) return common::make_error(error, "no payload");
    return it->second;
  }
};

struct FakeReplayer : Replayer {
  std::optional<std::vector<TokenLogprob>> answer;
  uint32_t error = 502;
  int calls = 0;
  common::Result<std::vector<TokenLogprob>> replay(const std::string&, const json& request) override {
    ++calls;
    last = request;
    if (!answer) return common::make_error(error, "replay failed");
    return *answer;
  }
  json last;
};

const std::vector<TokenLogprob> kTokens = {{"Hi", -0.5, {}}, {" there", -1.0, {}}};

struct Harness {
  TempDir dir;
  std::unique_ptr<state::StateStore> store;
  FakeChain chain;
  FakeFetcher fetcher;
  FakeReplayer replayer;
  server::Metrics metrics;
  std::vector<std::pair<std::string, bool>> votes;
  bool vote_fails = false;
  std::unique_ptr<Validator> v;

  Harness() {
    auto opened = state::StateStore::open(dir.path());
    store = std::move(opened.value());
    ValidatorDeps d;
    d.address = "me";
    d.chain = &chain;
    d.fetcher = &fetcher;
    d.replayer = &replayer;
    d.store = store.get();
    d.metrics = &metrics;
    d.vote = [this](const std::string& id, bool valid, const state::WriteSet& extra) -> common::Status {
      if (vote_fails) return common::make_error(1, "disk full");
      votes.emplace_back(id, valid);
      return store->write(extra);
    };
    ValidatorOptions o;
    o.retry_delay = std::chrono::milliseconds(1000);
    v = std::make_unique<Validator>(std::move(d), o);
  }

  // An honest finished, sampled inference of `executor` with deadline 100.
  void honest(const std::string& id, const std::string& executor = "exec") {
    Payload p;
    p.inference_id = id;
    p.prompt = kRequest.dump();
    p.content = "Hi there";
    p.logprobs = kTokens;
    fetcher.payloads[id] = p;
    chain.records[id] = InferenceRecord{id,
                                        "m",
                                        executor,
                                        "FINISHED",
                                        "PENDING",
                                        80,
                                        100,
                                        common::to_hex(common::sha256(p.prompt)),
                                        common::to_hex(common::sha256(p.content))};
    replayer.answer = kTokens;
  }

  void block(uint64_t height, const std::vector<std::string>& sampled,
             const std::string& validation = "sampled") {
    chain::Block b;
    b.height = height;
    chain::TxResult tx;
    for (const auto& id : sampled) {
      tx.events.push_back(
          chain::Event{"inference_finished", {{"inference_id", id}, {"validation", validation}}});
    }
    b.txs.push_back(tx);
    v->on_block(b);
  }
};

using Clock = std::chrono::steady_clock;

TEST(Validator, VotesValidOnAnHonestInferenceAndRemembersIt) {
  Harness h;
  h.honest("a");
  h.block(85, {"a"});
  EXPECT_EQ(h.v->remembered(), std::vector<std::string>{"a"});
  EXPECT_EQ(h.v->step(Clock::now()), 1u);
  ASSERT_EQ(h.votes.size(), 1u);
  EXPECT_EQ(h.votes[0], (std::pair<std::string, bool>{"a", true}));
  EXPECT_EQ(h.v->outcome("a"), "valid");
  EXPECT_TRUE(h.v->remembered().empty());
  EXPECT_EQ(h.replayer.last["enforced_str"], "Hi there");
  EXPECT_EQ(h.metrics.counter_value("dapi_inference_validations_total", {{"result", "valid"}}), 1u);
  // Seen again (a replayed block after a restart): not remembered again, not voted twice.
  h.block(85, {"a"});
  EXPECT_TRUE(h.v->remembered().empty());
  EXPECT_EQ(h.v->step(Clock::now()), 0u);
  EXPECT_EQ(h.votes.size(), 1u);
}

TEST(Validator, IgnoresNotSampledFailedTxsAndItsOwnInferences) {
  Harness h;
  h.honest("own", "me");
  h.block(85, {"x"}, "not_sampled");
  chain::Block b;
  b.height = 86;
  chain::TxResult failed;
  failed.code = 5;
  failed.events.push_back(
      chain::Event{"inference_finished", {{"inference_id", "y"}, {"validation", "sampled"}}});
  b.txs.push_back(failed);
  h.v->on_block(b);
  EXPECT_TRUE(h.v->remembered().empty());
  h.block(87, {"own"});
  h.v->step(Clock::now());
  EXPECT_TRUE(h.votes.empty());
  EXPECT_EQ(h.v->outcome("own"), "skipped");
}

TEST(Validator, DecisionTable) {
  struct Case {
    const char* name;
    std::function<void(Harness&)> setup;
    uint64_t height;
    Action expected;
  };
  const Case cases[] = {
      {"honest", [](Harness&) {}, 85, Action::kVoteValid},
      {"already decided", [](Harness& h) { h.chain.records["a"].validation = "VALID"; }, 85, Action::kSkip},
      {"unknown on chain", [](Harness& h) { h.chain.records.erase("a"); }, 85, Action::kSkip},
      {"chain down", [](Harness& h) { h.chain.down = true; }, 85, Action::kRetry},
      {"payload withheld early", [](Harness& h) { h.fetcher.payloads.clear(); }, 85, Action::kRetry},
      {"executor URL refused by this dapi's address policy",
       [](Harness& h) {
         h.fetcher.payloads.clear();
         h.fetcher.error = kRefusedAddress;
       },
       85, Action::kAbstain},
      // window 20 -> margin 5: give up at 95
      {"payload withheld at the give-up height", [](Harness& h) { h.fetcher.payloads.clear(); }, 95,
       Action::kVoteInvalid},
      {"content does not hash to response_hash",
       [](Harness& h) { h.fetcher.payloads["a"].content = "Hi there!"; }, 85, Action::kVoteInvalid},
      {"prompt does not hash to prompt_hash", [](Harness& h) { h.fetcher.payloads["a"].prompt = "{}"; }, 85,
       Action::kVoteInvalid},
      {"payload of another inference", [](Harness& h) { h.fetcher.payloads["a"].inference_id = "b"; }, 85,
       Action::kVoteInvalid},
      {"executor logprobs empty", [](Harness& h) { h.fetcher.payloads["a"].logprobs.clear(); }, 85,
       Action::kVoteInvalid},
      {"executor logprobs far off",
       [](Harness& h) {
         for (auto& t : h.fetcher.payloads["a"].logprobs) t.logprob = -7;
       },
       85, Action::kVoteInvalid},
      {"no own node for the model",
       [](Harness& h) {
         h.replayer.answer.reset();
         h.replayer.error = kNoNode;
       },
       85, Action::kAbstain},
      // PoC: our nodes of the model mine. The chain moves the deadline past the switch, so even at the
      // give-up height of the deadline read before the move this is retried, never an abstention.
      {"own nodes mine during PoC",
       [](Harness& h) {
         h.replayer.answer.reset();
         h.replayer.error = kNoNodeDuringPoc;
       },
       85, Action::kRetry},
      {"own nodes mine during PoC at the give-up height",
       [](Harness& h) {
         h.replayer.answer.reset();
         h.replayer.error = kNoNodeDuringPoc;
       },
       96, Action::kRetry},
      {"own MLNode fails early", [](Harness& h) { h.replayer.answer.reset(); }, 85, Action::kRetry},
      {"own MLNode fails at the give-up height", [](Harness& h) { h.replayer.answer.reset(); }, 96,
       Action::kAbstain},
      {"own logprobs empty", [](Harness& h) { h.replayer.answer = std::vector<TokenLogprob>{}; }, 85,
       Action::kAbstain},
      {"n = 2 is not re-run",
       [](Harness& h) {
         json p = kRequest;
         p["n"] = 2;
         h.fetcher.payloads["a"].prompt = p.dump();
         h.chain.records["a"].prompt_hash = common::to_hex(common::sha256(p.dump()));
       },
       85, Action::kAbstain},
  };
  for (const auto& c : cases) {
    Harness h;
    h.honest("a");
    c.setup(h);
    auto d = h.v->decide("a", c.height);
    EXPECT_EQ(action_name(d.action), action_name(c.expected)) << c.name << ": " << d.reason;
  }
}

TEST(Validator, RetriesAfterTheDelayAndPersistsAcrossARestart) {
  Harness h;
  h.honest("a");
  h.fetcher.payloads.clear();
  h.block(85, {"a"});
  auto t0 = Clock::now();
  EXPECT_EQ(h.v->step(t0), 0u);
  EXPECT_EQ(h.fetcher.calls, 1);
  EXPECT_EQ(h.v->step(t0 + std::chrono::milliseconds(500)), 0u);  // not yet due
  EXPECT_EQ(h.fetcher.calls, 1);
  // A "restart": a new validator over the same store still has the inference to decide.
  h.honest("a");
  ValidatorDeps d;
  d.address = "me";
  d.chain = &h.chain;
  d.fetcher = &h.fetcher;
  d.replayer = &h.replayer;
  d.store = h.store.get();
  d.vote = [&h](const std::string& id, bool valid, const state::WriteSet& extra) -> common::Status {
    h.votes.emplace_back(id, valid);
    return h.store->write(extra);
  };
  Validator again(std::move(d));
  EXPECT_EQ(again.remembered(), std::vector<std::string>{"a"});
  EXPECT_EQ(again.step(t0), 1u);
  EXPECT_EQ(h.votes.size(), 1u);
}

TEST(Validator, OutcomesArePrunedByTheHeightTheyWereSettledAt) {
  Harness h;
  h.honest("a");
  h.block(85, {"a"});
  h.v->step(Clock::now());
  ASSERT_TRUE(h.v->outcome("a"));
  EXPECT_EQ(h.v->prune(85), 0u);
  EXPECT_TRUE(h.v->outcome("a"));
  EXPECT_EQ(h.v->prune(86), 1u);
  EXPECT_FALSE(h.v->outcome("a"));
}

TEST(Validator, AVoteThatCannotBeQueuedStaysToDo) {
  Harness h;
  h.honest("a");
  h.block(85, {"a"});
  h.vote_fails = true;
  h.v->step(Clock::now());
  EXPECT_EQ(h.v->remembered(), std::vector<std::string>{"a"});
  EXPECT_FALSE(h.v->outcome("a"));
}

}  // namespace
}  // namespace api::validation
