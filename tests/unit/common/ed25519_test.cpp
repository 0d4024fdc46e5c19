#include "common/ed25519.h"

#include <gtest/gtest.h>

#include "common/bytes.h"

using namespace common;

TEST(Ed25519, MatchesRfc8032TestOne) {
  auto key = ed25519::from_seed(*from_hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"));
  ASSERT_TRUE(key);
  EXPECT_EQ(to_hex(key->public_key), "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
  std::string sig = ed25519::sign(*key, "");
  EXPECT_EQ(to_hex(sig),
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe"
            "24655141438e7a100b");
  EXPECT_TRUE(ed25519::verify(key->public_key, "", sig));
  EXPECT_FALSE(ed25519::verify(key->public_key, "x", sig));
}

TEST(Ed25519, GeneratedKeysSignAndVerify) {
  auto key = ed25519::generate();
  auto sig = ed25519::sign(key, "hello");
  EXPECT_TRUE(ed25519::verify(key.public_key, "hello", sig));
  EXPECT_EQ(ed25519::from_seed(key.private_seed)->public_key, key.public_key);
}
