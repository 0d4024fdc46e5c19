// The requester's sign bytes against the vector in docs/requester-signature.md, computed independently
// in Python with coincurve (libsecp256k1 bindings) and hashlib.
#include "common/requester_signature.h"

#include <gtest/gtest.h>

#include "common/bech32.h"
#include "common/bytes.h"
#include "common/hash.h"

namespace rs = common::requester_signature;

namespace {
constexpr const char* kChainId = "gonka-test-1";
constexpr const char* kTransferAgent = "gonka1zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg33gsu4d";
constexpr uint64_t kTimestampMs = 1767225600123;
constexpr const char* kBody =
    R"({"model":"Qwen/Qwen2.5-7B-Instruct","messages":[{"role":"user","content":"Hello"}],"max_tokens":16})";

std::string hex(const char* h) {
  return *common::from_hex(h);
}
}  // namespace

TEST(RequesterSignature, MatchesTheDocumentedVector) {
  auto key = common::secp256k1::private_key_from_bytes(common::sha256("requester-signature test key"));
  ASSERT_TRUE(key);
  EXPECT_EQ(common::bech32::encode("gonka", std::string(20, '\x11')), kTransferAgent);
  EXPECT_EQ(common::to_hex(common::secp256k1::public_key(*key)),
            "0384a9accce5acfacd80e8414a0287a5c8fa97bd9c0765265c88cff110a4ac0d4f");
  std::string body_hash = common::sha256(kBody);
  EXPECT_EQ(common::to_hex(body_hash), "c8ddbc8c0aaae0c814da2c6fa45de7780a73c6c3e843b8721070371f4c4626bc");
  EXPECT_EQ(common::to_hex(rs::sign_bytes(kChainId, kTransferAgent, kTimestampMs, body_hash)),
            "696e666572656e63652f726571756573742f763100676f6e6b612d746573742d3100676f6e6b61317a7967337a79"
            "67337a7967337a7967337a7967337a7967337a7967337a796733336773753464000000019b76daa87bc8ddbc8c0a"
            "aae0c814da2c6fa45de7780a73c6c3e843b8721070371f4c4626bc");
  EXPECT_EQ(common::to_hex(rs::digest(kChainId, kTransferAgent, kTimestampMs, body_hash)),
            "91d677955107398737dd70e3d73813beac2327be7a5a83466c1c6903cfcf08f0");
  std::string sig = rs::sign(*key, kChainId, kTransferAgent, kTimestampMs, body_hash);
  EXPECT_EQ(common::to_hex(sig),
            "8bb96693337330a6a173c51bb1b47992386f83c2e7abd22fa15b716e5d27ee95"
            "0152be4f71a2d318db710d59b7f095677195d376e2586ba4039fd30d4bad4bb1");
  std::string pub = common::secp256k1::public_key(*key);
  EXPECT_TRUE(rs::verify(pub, kChainId, kTransferAgent, kTimestampMs, body_hash, sig));
  EXPECT_TRUE(rs::verify(pub, kChainId, kTransferAgent, kTimestampMs, body_hash,
                         hex("8bb96693337330a6a173c51bb1b47992386f83c2e7abd22fa15b716e5d27ee95"
                             "0152be4f71a2d318db710d59b7f095677195d376e2586ba4039fd30d4bad4bb1")));
  // Every signed field matters.
  EXPECT_FALSE(rs::verify(pub, "other-chain", kTransferAgent, kTimestampMs, body_hash, sig));
  EXPECT_FALSE(rs::verify(pub, kChainId, "gonka1other", kTimestampMs, body_hash, sig));
  EXPECT_FALSE(rs::verify(pub, kChainId, kTransferAgent, kTimestampMs + 1, body_hash, sig));
  EXPECT_FALSE(rs::verify(pub, kChainId, kTransferAgent, kTimestampMs, common::sha256("x"), sig));
  EXPECT_FALSE(rs::verify(pub, kChainId, kTransferAgent, kTimestampMs, body_hash.substr(1), sig));
  EXPECT_FALSE(rs::verify(pub, kChainId, kTransferAgent, kTimestampMs, body_hash, sig.substr(1)));
}

TEST(RequesterSignature, TimestampWindowIsInclusiveBothSides) {
  int64_t now = 1'767'225'600'000;
  uint64_t skew = rs::kMaxRequestSkewMs;
  EXPECT_TRUE(rs::timestamp_fresh(static_cast<uint64_t>(now), now));
  EXPECT_TRUE(rs::timestamp_fresh(static_cast<uint64_t>(now) - skew, now));
  EXPECT_TRUE(rs::timestamp_fresh(static_cast<uint64_t>(now) + skew, now));
  EXPECT_FALSE(rs::timestamp_fresh(static_cast<uint64_t>(now) - skew - 1, now));
  EXPECT_FALSE(rs::timestamp_fresh(static_cast<uint64_t>(now) + skew + 1, now));
  EXPECT_FALSE(rs::timestamp_fresh(0, now));
  EXPECT_FALSE(rs::timestamp_fresh(UINT64_MAX, now));
  EXPECT_FALSE(rs::timestamp_fresh(5, -1));
}
