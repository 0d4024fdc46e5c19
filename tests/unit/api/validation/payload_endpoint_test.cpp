// GET /v1/inferences/{id}/payload (payload_endpoint.h) against a fake chain RPC: every refusal with its
// status and code, and the payload for a signed request of another participant while the inference is
// PENDING.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "api/chain/chain_client.h"
#include "api/validation/payload_endpoint.h"
#include "api/validation/validator_http.h"
#include "common/bytes.h"
#include "fake_chain_rpc.h"

namespace api::validation {
namespace {

using nlohmann::json;

constexpr int64_t kNow = 1'700'000'000'000;
const std::string kExecutor = "gonka1executor";
const std::string kValidator = "gonka1validator";

class PayloadEndpointTest : public ::testing::Test {
 protected:
  PayloadEndpointTest()
      : dir_(std::filesystem::temp_directory_path() /
             ("payload_ep_" + std::to_string(std::random_device{}()))),
        key_(common::secp256k1::generate_private_key()),
        chain_(rpc_.url()) {
    store_ = std::move(state::StateStore::open(dir_.string()).value());
    payloads_ = std::make_unique<PayloadStore>(*store_);
    rpc_.set("/inference/participants/" + kValidator, 200,
             json{{"participant",
                   {{"address", kValidator}, {"url", "http://v"}, {"status", "ACTIVE"}, {"join_height", 1}}}}
                 .dump());
    rpc_.set("/auth/accounts/" + kValidator, 200,
             json{{"address", kValidator},
                  {"account_number", "1"},
                  {"sequence", "0"},
                  {"public_key", common::to_base64(common::secp256k1::public_key(key_))}}
                 .dump());
    set_record("inf-1", kExecutor, "PENDING");
    json body = json::parse(R"({"messages":[{"content":"hi","role":"user"}],"model":"m"})");
    PayloadRecording rec("inf-1", body);
    json out = {
        {"choices", json::array({{{"message", {{"content", "ok"}}},
                                  {"logprobs", {{"content", {{{"token", "ok"}, {"logprob", -0.2}}}}}}}})}};
    rec.whole(out);
    payloads_->record(rec, body);
    deps_.chain = &chain_;
    deps_.store = payloads_.get();
    deps_.address = kExecutor;
    deps_.now_ms = [] { return kNow; };
  }
  ~PayloadEndpointTest() override { std::filesystem::remove_all(dir_); }

  void set_record(const std::string& id, const std::string& executor, const std::string& validation) {
    rpc_.set("/inference/inferences/" + id, 200,
             json{{"inference", {{"id", id}, {"executor", executor}, {"validation", validation}}}}.dump());
  }

  net::Response get(const std::string& id, net::Headers headers) {
    net::Request req;
    req.method = "GET";
    req.path_params["id"] = id;
    req.headers = std::move(headers);
    return serve_payload(deps_, req);
  }

  net::Headers signed_by(const std::string& id, int64_t ts = kNow, const std::string& who = kValidator) {
    return sign_payload_request(key_, who, id, ts, kExecutor);
  }

  static std::string code(const net::Response& r) {
    json j = json::parse(r.body, nullptr, false);
    return j.is_object() && j["error"].is_object() ? j["error"].value("code", "") : "";
  }

  std::filesystem::path dir_;
  common::secp256k1::PrivateKey key_;
  chain::testing::FakeChainRpc rpc_;
  chain::ChainClient chain_;
  std::unique_ptr<state::StateStore> store_;
  std::unique_ptr<PayloadStore> payloads_;
  PayloadEndpointDeps deps_;
};

TEST_F(PayloadEndpointTest, AnswersTheSignedRequestOfAnotherParticipantWhilePending) {
  auto r = get("inf-1", signed_by("inf-1"));
  ASSERT_EQ(r.status, 200) << r.body;
  auto p = payload_from_json(json::parse(r.body));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->content, "ok");
  EXPECT_EQ(p->logprobs.size(), 1u);
}

TEST_F(PayloadEndpointTest, RefusalsHaveTheirStatusAndCode) {
  auto other_key = common::secp256k1::generate_private_key();
  auto forged = sign_payload_request(other_key, kValidator, "inf-1", kNow, kExecutor);
  set_record("inf-other", "gonka1someoneelse", "PENDING");
  set_record("inf-decided", kExecutor, "VALID");
  set_record("inf-nopayload", kExecutor, "PENDING");
  struct Case {
    const char* name;
    std::string id;
    net::Headers headers;
    int status;
    std::string code;
  };
  const Case cases[] = {
      {"malformed id", "a/b", signed_by("a/b"), 400, "invalid_value"},
      {"no headers", "inf-1", {}, 401, "invalid_signature"},
      {"signature not base64",
       "inf-1",
       {{kHeaderValidator, kValidator},
        {kHeaderPayloadTimestamp, std::to_string(kNow)},
        {kHeaderValidatorSignature, "!"}},
       401,
       "invalid_signature"},
      {"the executor itself", "inf-1", signed_by("inf-1", kNow, kExecutor), 403, "not_a_validator"},
      {"stale timestamp", "inf-1", signed_by("inf-1", kNow - 31'000), 401, "stale_timestamp"},
      {"future timestamp", "inf-1", signed_by("inf-1", kNow + 31'000), 401, "stale_timestamp"},
      {"not a participant", "inf-1", signed_by("inf-1", kNow, "gonka1stranger"), 403, "not_a_participant"},
      {"another key", "inf-1", forged, 401, "invalid_signature"},
      {"signed for another id", "inf-1", signed_by("inf-2"), 401, "invalid_signature"},
      {"unknown on chain", "inf-unknown", signed_by("inf-unknown"), 404, "not_found"},
      {"executed by someone else", "inf-other", signed_by("inf-other"), 404, "not_found"},
      {"already decided", "inf-decided", signed_by("inf-decided"), 403, "not_awaiting_validation"},
      {"no payload here", "inf-nopayload", signed_by("inf-nopayload"), 404, "not_found"},
  };
  for (const auto& c : cases) {
    auto r = get(c.id, c.headers);
    EXPECT_EQ(r.status, c.status) << c.name << ": " << r.body;
    EXPECT_EQ(code(r), c.code) << c.name << ": " << r.body;
  }
}

}  // namespace
}  // namespace api::validation

namespace api::validation {
namespace {

// The validator's side of the hop: the signed GET, the address policy, no redirect followed.
TEST(HttpPayloadFetcher, FetchesSignedRefusesInternalAddressesAndFollowsNoRedirect) {
  auto key = common::secp256k1::generate_private_key();
  net::Router router;
  std::string seen_signer;
  router.add("GET", "/v1/inferences/{id}/payload", [&](const net::Request& req) {
    seen_signer = req.header(kHeaderValidator);
    if (req.path_params.at("id") == "moved") {
      net::Response r;
      r.status = 302;
      r.headers["location"] = "http://127.0.0.1:1/v1/inferences/moved/payload";
      return r;
    }
    Payload p;
    p.inference_id = req.path_params.at("id");
    p.prompt = "{}";
    p.content = "ok";
    return net::json_response(200, payload_to_json(p).dump());
  });
  net::Server server(std::move(router), net::ServerOptions{});
  server.start();
  std::string url = "http://127.0.0.1:" + std::to_string(server.port());

  net::AddressPolicy loopback;
  loopback.allowed.push_back(*net::parse_network("127.0.0.0/8"));
  HttpPayloadFetcher fetcher(key, "gonka1me", loopback, std::chrono::milliseconds(3000));
  auto p = fetcher.fetch(url + "/", "gonka1exec", "inf-1");
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->content, "ok");
  EXPECT_EQ(seen_signer, "gonka1me");
  auto moved = fetcher.fetch(url, "gonka1exec", "moved");
  ASSERT_FALSE(moved);
  EXPECT_EQ(moved.error().code, 302u);

  HttpPayloadFetcher strict(key, "gonka1me", net::AddressPolicy{});  // the default: loopback refused
  seen_signer.clear();
  auto refused = strict.fetch(url, "gonka1exec", "inf-1");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, kRefusedAddress) << refused.error().message;
  EXPECT_TRUE(seen_signer.empty());  // nothing was sent
  EXPECT_FALSE(fetcher.fetch("ftp://127.0.0.1", "gonka1exec", "inf-1"));
  EXPECT_FALSE(fetcher.fetch(url, "gonka1exec", "a/b"));
  server.stop();
}

}  // namespace
}  // namespace api::validation
