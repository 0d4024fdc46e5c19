#include "mlnode/poc/nonce_split.h"

#include <gtest/gtest.h>

#include <set>

namespace mlnode::poc {
namespace {

TEST(NonceSplit, NodesOfOneParticipantNeverOverlapAndCoverEveryNonce) {
  for (int64_t count : {1, 2, 3, 7}) {
    std::set<uint64_t> seen;
    for (int64_t id = 0; id < count; ++id) {
      auto split = NonceSplit::make(id, count);
      ASSERT_TRUE(split.ok());
      for (uint64_t x = 0; x < 100; ++x) {
        EXPECT_TRUE(seen.insert(split->nonce_at(x)).second) << "nonce produced twice, count " << count;
      }
    }
    for (uint64_t n = 0; n < static_cast<uint64_t>(100 * count); ++n) EXPECT_TRUE(seen.count(n)) << n;
  }
}

TEST(NonceSplit, RejectsIdsOutsideTheRangeWithAClearMessage) {
  auto bad_id = NonceSplit::make(2, 2);
  ASSERT_FALSE(bad_id.ok());
  EXPECT_NE(bad_id.error().message.find("node_id must be in [0, node_count)"), std::string::npos);
  EXPECT_FALSE(NonceSplit::make(-1, 2).ok());
  auto bad_count = NonceSplit::make(0, 0);
  ASSERT_FALSE(bad_count.ok());
  EXPECT_NE(bad_count.error().message.find("node_count must be >= 1"), std::string::npos);
}

}  // namespace
}  // namespace mlnode::poc
