#include "common/participant_key.h"

#include <gtest/gtest.h>

#include "common/bytes.h"

namespace pk = common::participant_key;

namespace {
// The vector of docs/transactions.md ("Validator key proof"), computed with an independent ed25519
// implementation (Python cryptography): seed 01 02 .. 20, chain id inference-localnet, creator =
// bech32("gonka", twenty 0x01 bytes).
constexpr const char* kCreator = "gonka1qyqszqgpqyqszqgpqyqszqgpqyqszqgpzxxq27";
constexpr const char* kPublicHex = "79b5562e8fe654f94078b112e8a98ba7901f853ae695bed7e0e3910bad049664";
constexpr const char* kSignBytesHex =
    "696e666572656e63652f7061727469636970616e742d76616c696461746f722d6b657900696e666572656e63652d6c6f63616c6e"
    "657400"
    "676f6e6b6131717971737a716770717971737a716770717971737a716770717971737a7167707a7878713237";
constexpr const char* kSignatureHex =
    "a392249f42a45888113ebd6dedb5cbb7a3b38a5d5c4ce153fd4b571497fdeeb4a69bfb0a1f9c7102074575f0c7530572f34fbae2"
    "3b684a5eaf9"
    "ca083f6d44f08";

std::string seed() {
  std::string s;
  for (int i = 1; i <= 32; ++i) s.push_back(static_cast<char>(i));
  return s;
}
}  // namespace

TEST(ParticipantKey, SignBytesAndSignatureMatchTheDocumentedVector) {
  auto key = *common::ed25519::from_seed(seed());
  EXPECT_EQ(common::to_hex(key.public_key), kPublicHex);
  EXPECT_EQ(common::to_hex(pk::sign_bytes("inference-localnet", kCreator)), kSignBytesHex);
  auto sig = pk::sign(key, "inference-localnet", kCreator);
  EXPECT_EQ(common::to_hex(sig), kSignatureHex);  // ed25519 is deterministic
  EXPECT_TRUE(pk::verify(key.public_key, "inference-localnet", kCreator, sig));
}

TEST(ParticipantKey, ASignatureIsBoundToTheChainTheAddressAndTheKey) {
  auto key = *common::ed25519::from_seed(seed());
  auto other = common::ed25519::generate();
  auto sig = pk::sign(key, "inference-localnet", kCreator);
  EXPECT_FALSE(pk::verify(key.public_key, "other-chain", kCreator, sig));
  EXPECT_FALSE(pk::verify(key.public_key, "inference-localnet", "gonka1someoneelse", sig));
  EXPECT_FALSE(pk::verify(other.public_key, "inference-localnet", kCreator, sig));
  EXPECT_FALSE(pk::verify(key.public_key, "inference-localnet", kCreator, sig.substr(0, 63)));
  EXPECT_FALSE(pk::verify(key.public_key.substr(0, 31), "inference-localnet", kCreator, sig));
  EXPECT_FALSE(pk::verify(key.public_key, "inference-localnet", kCreator, std::string(64, '\0')));
  // No ambiguity between the fields: moving the separator changes the bytes.
  EXPECT_NE(pk::sign_bytes("a", "bc"), pk::sign_bytes("ab", "c"));
}
