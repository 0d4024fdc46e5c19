#include "chain/types/address.h"

#include <gtest/gtest.h>

#include "common/bytes.h"

using namespace chain::types;

TEST(Address, DerivesCosmosStyleFromCompressedKey) {
  auto pub = *common::from_hex("0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798");
  Address a = address_from_public_key(pub);
  EXPECT_EQ(common::to_hex(a), "751e76e8199196d454941c45d1b3a323f1433bd6");
  // Cross-checked with an independent bech32 encoder.
  EXPECT_EQ(to_bech32("cosmos", a), "cosmos1w508d6qejxtdg4y5r3zarvary0c5xw7k6ah60c");
}

TEST(Address, ParseChecksPrefixAndLength) {
  Address a(20, '\x07');
  std::string text = to_bech32("gonka", a);
  EXPECT_EQ(*parse_address("gonka", text), a);
  auto wrong = parse_address("cosmos", text);
  ASSERT_FALSE(wrong);
  EXPECT_NE(wrong.error().message.find("prefix must be \"cosmos\""), std::string::npos);
  EXPECT_FALSE(parse_address("gonka", to_bech32("gonka", std::string(19, '\1'))));
  EXPECT_FALSE(parse_address("gonka", "gonka1notanaddress"));
  EXPECT_NE(module_address("gov"), module_address("bank"));
}
