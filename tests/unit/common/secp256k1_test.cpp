#include "common/secp256k1.h"

#include <gtest/gtest.h>

#include "common/bytes.h"
#include "common/hash.h"

using namespace common;

TEST(Secp256k1, GeneratorPublicKeyAndHash160) {
  auto key = secp256k1::private_key_from_bytes(*from_hex(std::string(63, '0') + "1"));
  ASSERT_TRUE(key);
  std::string pub = secp256k1::public_key(*key);
  EXPECT_EQ(to_hex(pub), "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798");
  EXPECT_EQ(to_hex(ripemd160(sha256(pub))), "751e76e8199196d454941c45d1b3a323f1433bd6");
}

TEST(Secp256k1, SignVerifyRoundTripAndTamperDetection) {
  auto key = secp256k1::generate_private_key();
  std::string pub = secp256k1::public_key(key);
  std::string hash = sha256("message");
  std::string sig = secp256k1::sign(key, hash);
  ASSERT_EQ(sig.size(), 64u);
  EXPECT_TRUE(secp256k1::verify(pub, hash, sig));
  EXPECT_FALSE(secp256k1::verify(pub, sha256("other"), sig));
  std::string bad = sig;
  bad[10] ^= 1;
  EXPECT_FALSE(secp256k1::verify(pub, hash, bad));
  auto other = secp256k1::public_key(secp256k1::generate_private_key());
  EXPECT_FALSE(secp256k1::verify(other, hash, sig));
}

TEST(Secp256k1, RejectsHighSAndBadSizes) {
  auto key = secp256k1::generate_private_key();
  std::string pub = secp256k1::public_key(key);
  std::string hash = sha256("x");
  std::string sig = secp256k1::sign(key, hash);
  // s' = n - s is an equally valid but high-S signature: it must be rejected.
  const std::string n = *from_hex("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141");
  std::string high = sig;
  int borrow = 0;
  for (int i = 31; i >= 0; --i) {
    int d = uint8_t(n[i]) - uint8_t(sig[32 + i]) - borrow;
    borrow = d < 0;
    high[32 + i] = static_cast<char>(d < 0 ? d + 256 : d);
  }
  EXPECT_FALSE(secp256k1::verify(pub, hash, high));
  EXPECT_FALSE(secp256k1::verify(pub.substr(1), hash, sig));
  EXPECT_FALSE(secp256k1::verify(pub, hash, sig.substr(1)));
  EXPECT_FALSE(secp256k1::private_key_from_bytes(std::string(32, '\0')));
  EXPECT_FALSE(secp256k1::private_key_from_bytes(n));
}
