#include "chain/types/coins.h"

#include <gtest/gtest.h>

using namespace chain::types;

TEST(Coins, ParsesAmountAndDenom) {
  auto c = parse_coin("10000nicoin");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->denom, "nicoin");
  EXPECT_EQ(c->amount, 10000u);
  EXPECT_EQ(format_coin(*c), "10000nicoin");
  EXPECT_FALSE(parse_coin("nicoin"));
  EXPECT_FALSE(parse_coin("10"));
  EXPECT_FALSE(parse_coin("-5nicoin"));
  EXPECT_FALSE(parse_coin("18446744073709551616nicoin"));
  EXPECT_FALSE(parse_coin("5NICOIN"));
}

TEST(Coins, CheckedArithmetic) {
  EXPECT_FALSE(checked_add(UINT64_MAX, 1));
  EXPECT_FALSE(checked_sub(1, 2));
  EXPECT_FALSE(checked_mul(UINT64_MAX, 2));
  EXPECT_EQ(*mul_div(UINT64_MAX, 3, 3), UINT64_MAX);
  EXPECT_EQ(*mul_div(10, 1, 3), 3u);
  EXPECT_FALSE(mul_div(1, 1, 0));
  EXPECT_FALSE(mul_div(UINT64_MAX, 2, 1));
}
