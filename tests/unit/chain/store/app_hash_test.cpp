#include "chain/store/app_hash.h"

#include <gtest/gtest.h>

#include "common/bytes.h"

using namespace chain::store;

// Vectors computed independently (Python hashlib) from the specification in docs/app-hash.md.
TEST(AppHash, MatchesSpecificationVectors) {
  WriteSet ws{{"a", "1"}, {"b", std::nullopt}, {"c", std::string(200, 'x')}};
  std::string wsh = write_set_hash(ws);
  EXPECT_EQ(common::to_hex(wsh), "0c4a4a52e929aa890ec9f37e03e46418d30e499dcd4e976b80f5c770da52d7c4");
  std::string h0 = next_app_hash("", wsh);
  EXPECT_EQ(common::to_hex(h0), "2690c75f2a40023d9d5ebb8002a7a5b15a4d58e712e499a79dc6353d0a937a54");
  std::string h1 = next_app_hash(h0, write_set_hash({}));
  EXPECT_EQ(common::to_hex(h1), "f686e88f1c293035caea29e0f0d31415d91622a99854a61b13dedd46bc0b9f04");
}

TEST(AppHash, DependsOnEveryWriteAndOnHistory) {
  WriteSet a{{"k", "v"}};
  WriteSet b{{"k", "w"}};
  WriteSet c{{"k", std::nullopt}};
  EXPECT_NE(write_set_hash(a), write_set_hash(b));
  EXPECT_NE(write_set_hash(a), write_set_hash(c));
  EXPECT_NE(next_app_hash(std::string(32, '\1'), write_set_hash(a)), next_app_hash(std::string(32, '\2'), write_set_hash(a)));
  // Length prefixes keep ("ab","c") and ("a","bc") apart.
  EXPECT_NE(write_set_hash({{"ab", "c"}}), write_set_hash({{"a", "bc"}}));
}
