#include "common/bech32.h"

#include <gtest/gtest.h>

#include "common/bytes.h"

using namespace common;

TEST(Bech32, DecodesBip173ValidVectors) {
  auto a = bech32::decode("A12UEL5L");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->hrp, "a");
  EXPECT_EQ(a->data, "");
  auto b = bech32::decode("abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->hrp, "abcdef");
  EXPECT_EQ(to_hex(b->data), "00443214c74254b635cf84653a56d7c675be77df");
  EXPECT_EQ(bech32::encode("abcdef", b->data), "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw");
  EXPECT_EQ(bech32::encode("a", ""), "a12uel5l");
}

TEST(Bech32, RejectsBip173InvalidVectors) {
  for (const char* bad : {"pzry9x0s0muk", "1pzry9x0s0muk", "x1b4n0q5v", "li1dgmt3", "A1G7SGD8", "10a06t8",
                          "1qzzfhee", "abcdef1Qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw"}) {
    EXPECT_FALSE(bech32::decode(bad)) << bad;
  }
}

TEST(Bech32, RoundTripsTwentyByteAddresses) {
  std::string addr = *from_hex("751e76e8199196d454941c45d1b3a323f1433bd6");
  std::string text = bech32::encode("gonka", addr);
  auto back = bech32::decode(text);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->hrp, "gonka");
  EXPECT_EQ(back->data, addr);
  text[text.size() - 1] = text[text.size() - 1] == 'q' ? 'p' : 'q';
  EXPECT_FALSE(bech32::decode(text));
}
