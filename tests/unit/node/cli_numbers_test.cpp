#include "node/cli/numbers.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace node::cli {
namespace {

TEST(CliNumbers, ParseU64AcceptsOnlyPlainDecimalsThatFit) {
  EXPECT_EQ(parse_u64("0"), 0u);
  EXPECT_EQ(parse_u64("18446744073709551615"), UINT64_MAX);
  for (const char* bad :
       {"", "-1", "+1", " 1", "1 ", "1x", "0x10", "18446744073709551616", "99999999999999999999", "1e3"}) {
    EXPECT_FALSE(parse_u64(bad)) << bad;
  }
}

TEST(CliNumbers, NonceRangesEndingAtTheLargestNonceTerminate) {
  // Issue 13 fault 11: "for (n = a; n <= b; ++n)" never ends when b is 2^64-1.
  auto top = parse_nonce_list("18446744073709551613-18446744073709551615", 100);
  EXPECT_EQ(top,
            (std::vector<uint64_t>{18446744073709551613u, 18446744073709551614u, 18446744073709551615u}));
  EXPECT_EQ(parse_nonce_list("18446744073709551615", 1), std::vector<uint64_t>{UINT64_MAX});
  EXPECT_EQ(parse_nonce_list("1,2,5-7", 10), (std::vector<uint64_t>{1, 2, 5, 6, 7}));
  EXPECT_THROW(parse_nonce_list("0-18446744073709551615", 100000), std::runtime_error);  // refused at once
  EXPECT_THROW(parse_nonce_list("1-10,20-30", 15), std::runtime_error);                  // the total counts
  EXPECT_NO_THROW(parse_nonce_list("1-10,20-24", 15));
  for (const char* bad : {"", "-1", "5-3", "1,,2", "1,", "a", "1-", "-", "1-2-3", "18446744073709551616"}) {
    EXPECT_THROW(parse_nonce_list(bad, 100), std::runtime_error) << bad;
  }
}

}  // namespace
}  // namespace node::cli
