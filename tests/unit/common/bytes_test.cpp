#include "common/bytes.h"

#include <gtest/gtest.h>

using namespace common;

TEST(Hex, RoundTripsAndRejectsBadInput) {
  EXPECT_EQ(to_hex(std::string("\x00\xff\x10", 3)), "00ff10");
  EXPECT_EQ(*from_hex("00FF10"), std::string("\x00\xff\x10", 3));
  EXPECT_FALSE(from_hex("abc"));
  EXPECT_FALSE(from_hex("zz"));
}

TEST(Base64, MatchesRfc4648Vectors) {
  const std::pair<std::string, std::string> vectors[] = {
      {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"}, {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(to_base64(plain), encoded);
    EXPECT_EQ(*from_base64(encoded), plain);
  }
}

TEST(Base64, RejectsMalformedText) {
  EXPECT_FALSE(from_base64("Zg="));
  EXPECT_FALSE(from_base64("Z==="));
  EXPECT_FALSE(from_base64("Zm9v!A=="));
  EXPECT_FALSE(from_base64("Zg==Zg=="));
}

TEST(Varint, RoundTripsAndDetectsTruncation) {
  for (uint64_t v : {uint64_t{0}, uint64_t{1}, uint64_t{127}, uint64_t{128}, uint64_t{300}, UINT64_MAX}) {
    Bytes b;
    put_uvarint(b, v);
    uint64_t out = 0;
    EXPECT_EQ(get_uvarint(b, out), static_cast<int>(b.size()));
    EXPECT_EQ(out, v);
    uint64_t partial = 0;
    if (b.size() > 1) {
      EXPECT_EQ(get_uvarint(std::string_view(b).substr(0, b.size() - 1), partial), 0);
    }
  }
  uint64_t out = 0;
  EXPECT_EQ(get_uvarint(std::string(11, '\xff'), out), -1);
}

TEST(BigEndian, OrdersLikeNumbers) {
  EXPECT_LT(be64(255), be64(256));
  EXPECT_EQ(get_be64(be64(0x0102030405060708ULL)), 0x0102030405060708ULL);
}
