// Requester-signed requests at the transfer agent: header parsing, timestamp window, signature, replays.
#include "api/inference/requester_auth.h"

#include <gtest/gtest.h>

#include "common/bytes.h"
#include "common/hash.h"
#include "common/requester_signature.h"

using namespace api::inference;
namespace rs = common::requester_signature;

namespace {
constexpr const char* kChain = "gonka-test-1";
constexpr const char* kTa = "gonka1zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg33gsu4d";
constexpr int64_t kNow = 1'767'225'600'000;

net::Request signed_request(const common::secp256k1::PrivateKey& key, const std::string& body, uint64_t ts,
                            const std::string& ta = kTa) {
  net::Request req;
  req.method = "POST";
  req.body = body;
  req.headers["x-requester-address"] = "gonka1requester";
  req.headers["x-requester-timestamp"] = std::to_string(ts);
  req.headers["x-requester-signature"] = common::to_hex(rs::sign(key, kChain, ta, ts, common::sha256(body)));
  return req;
}
}  // namespace

TEST(RequesterAuth, AcceptsTheRightSignatureAndRefusesEveryAlteredField) {
  auto key = common::secp256k1::generate_private_key();
  std::string pub = common::secp256k1::public_key(key);
  auto req = signed_request(key, R"({"model":"m"})", kNow);
  ASSERT_TRUE(has_requester_headers(req));
  RequestError err;
  auto r = parse_requester_headers(req, err);
  ASSERT_TRUE(r) << err.message;
  EXPECT_EQ(r->address, "gonka1requester");
  EXPECT_EQ(check_signed_request(*r, pub, kChain, kTa, kNow).status, 0);
  // Another transfer agent, chain, key or body.
  EXPECT_EQ(check_signed_request(*r, pub, kChain, "gonka1other", kNow).status, 401);
  EXPECT_EQ(check_signed_request(*r, pub, "other", kTa, kNow).status, 401);
  auto other_key = common::secp256k1::generate_private_key();
  EXPECT_EQ(check_signed_request(*r, common::secp256k1::public_key(other_key), kChain, kTa, kNow).status,
            401);
  EXPECT_EQ(check_signed_request(*r, "", kChain, kTa, kNow).status, 401);
  req.body = R"({"model":"n"})";
  auto altered = parse_requester_headers(req, err);
  ASSERT_TRUE(altered);
  EXPECT_EQ(check_signed_request(*altered, pub, kChain, kTa, kNow).status, 401);
}

TEST(RequesterAuth, StaleAndFutureTimestampsAre401) {
  auto key = common::secp256k1::generate_private_key();
  std::string pub = common::secp256k1::public_key(key);
  RequestError err;
  int64_t skew = static_cast<int64_t>(rs::kMaxRequestSkewMs);
  for (int64_t ts : {kNow - skew - 1, kNow + skew + 1}) {
    auto r = parse_requester_headers(signed_request(key, "{}", static_cast<uint64_t>(ts)), err);
    ASSERT_TRUE(r);
    auto e = check_signed_request(*r, pub, kChain, kTa, kNow);
    EXPECT_EQ(e.status, 401);
    EXPECT_EQ(e.code, "stale_timestamp");
  }
  auto edge = parse_requester_headers(signed_request(key, "{}", static_cast<uint64_t>(kNow - skew)), err);
  EXPECT_EQ(check_signed_request(*edge, pub, kChain, kTa, kNow).status, 0);
}

TEST(RequesterAuth, MalformedHeadersAre400) {
  auto key = common::secp256k1::generate_private_key();
  RequestError err;
  auto req = signed_request(key, "{}", kNow);
  for (auto [name, value] :
       std::vector<std::pair<std::string, std::string>>{{"x-requester-timestamp", "12a"},
                                                        {"x-requester-timestamp", "-5"},
                                                        {"x-requester-timestamp", ""},
                                                        {"x-requester-signature", "zz"},
                                                        {"x-requester-signature", std::string(126, 'a')},
                                                        {"x-requester-address", ""}}) {
    auto bad = req;
    bad.headers[name] = value;
    EXPECT_FALSE(parse_requester_headers(bad, err)) << name << "=" << value;
    EXPECT_EQ(err.status, 400);
  }
  net::Request plain;
  EXPECT_FALSE(has_requester_headers(plain));
}

TEST(RequesterAuth, ReplayCacheRefusesTheSameSignedRequestAndForgetsExpiredOnes) {
  auto key = common::secp256k1::generate_private_key();
  RequestError err;
  auto a = *parse_requester_headers(signed_request(key, "{}", kNow), err);
  auto b = *parse_requester_headers(signed_request(key, "{}", kNow + 1), err);
  RequestReplayCache cache(2);
  EXPECT_TRUE(cache.remember(a, kNow));
  EXPECT_FALSE(cache.remember(a, kNow));
  EXPECT_TRUE(cache.remember(b, kNow));
  auto c = *parse_requester_headers(signed_request(key, "{}", kNow + 2), err);
  EXPECT_FALSE(cache.remember(c, kNow));  // full of live entries
  int64_t later = kNow + static_cast<int64_t>(rs::kMaxRequestSkewMs) + 2;
  EXPECT_TRUE(cache.remember(c, later));  // a and b are out of the window: forgotten
  EXPECT_EQ(cache.size(), 1u);
}
