#include "common/hash.h"

#include <gtest/gtest.h>

#include "common/bytes.h"

using namespace common;

TEST(Sha256, MatchesFips180Vector) {
  EXPECT_EQ(to_hex(sha256("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Sha256 incremental;
  incremental.update("a").update("bc");
  EXPECT_EQ(incremental.finish(), sha256("abc"));
}

TEST(Ripemd160, MatchesReferenceVector) {
  EXPECT_EQ(to_hex(ripemd160("abc")), "8eb208f7e05d987a9b044a8e98c6b087f15a0bfc");
}
