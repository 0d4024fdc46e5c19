#include "chain/store/overlay.h"

#include <gtest/gtest.h>

#include "chain/store/memory_store.h"

using namespace chain::store;

namespace {
std::vector<std::pair<std::string, std::string>> collect(const KvReader& r, std::string_view start = "",
                                                         std::string_view end = "") {
  std::vector<std::pair<std::string, std::string>> out;
  r.scan(start, end, [&](std::string_view k, std::string_view v) {
    out.emplace_back(k, v);
    return true;
  });
  return out;
}
}  // namespace

TEST(Overlay, ReadsFallThroughAndWritesStayBuffered) {
  MemoryStore base;
  base.commit({{"a", "1"}, {"b", "2"}}, {1, "h"}, {});
  Overlay o(base);
  o.set("c", "3");
  o.erase("a");
  EXPECT_FALSE(o.get("a"));
  EXPECT_EQ(*o.get("b"), "2");
  EXPECT_EQ(*o.get("c"), "3");
  EXPECT_EQ(*base.get("a"), "1");
  EXPECT_FALSE(base.get("c"));
}

TEST(Overlay, ScanMergesInKeyOrderHidingDeletes) {
  MemoryStore base;
  base.commit({{"a", "1"}, {"c", "3"}, {"e", "5"}}, {1, "h"}, {});
  Overlay o(base);
  o.set("b", "2");
  o.set("c", "33");
  o.erase("e");
  o.set("f", "6");
  using V = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(collect(o), (V{{"a", "1"}, {"b", "2"}, {"c", "33"}, {"f", "6"}}));
  EXPECT_EQ(collect(o, "b", "d"), (V{{"b", "2"}, {"c", "33"}}));
  int seen = 0;
  o.scan("", "", [&](std::string_view, std::string_view) { return ++seen < 2; });
  EXPECT_EQ(seen, 2);
}

TEST(Overlay, FailedBranchLeavesNothingAndCommittedBranchMerges) {
  MemoryStore base;
  Overlay block(base);
  block.set("x", "1");
  {
    Overlay failed_tx(block);
    failed_tx.set("x", "2");
    failed_tx.set("y", "2");
  }  // discarded
  EXPECT_EQ(*block.get("x"), "1");
  EXPECT_FALSE(block.get("y"));
  Overlay ok_tx(block);
  ok_tx.set("y", "3");
  ok_tx.erase("x");
  ok_tx.write_to(block);
  EXPECT_FALSE(block.get("x"));
  EXPECT_EQ(*block.get("y"), "3");
  EXPECT_TRUE(ok_tx.writes().empty());
}

TEST(Overlay, PrefixScanStopsAtPrefixEnd) {
  MemoryStore base;
  base.commit({{"ab", "1"}, {"ab\xff", "2"}, {"ac", "3"}}, {1, "h"}, {});
  std::vector<std::string> keys;
  base.scan_prefix("ab", [&](std::string_view k, std::string_view) {
    keys.emplace_back(k);
    return true;
  });
  EXPECT_EQ(keys, (std::vector<std::string>{"ab", "ab\xff"}));
  EXPECT_EQ(prefix_end("a\xff"), "b");
  EXPECT_EQ(prefix_end("\xff\xff"), "");
}

TEST(Overlay, BranchOfABranchReadsThroughInsteadOfCopying) {
  MemoryStore base;
  Overlay block(base);
  for (int i = 0; i < 100; ++i) block.set("k" + std::to_string(i), "v");
  Overlay tx(block);
  EXPECT_TRUE(tx.writes().empty());  // nothing copied
  EXPECT_EQ(*tx.get("k42"), "v");
  tx.set("k42", "w");
  EXPECT_EQ(*block.get("k42"), "v");
  tx.write_to(block);
  EXPECT_EQ(*block.get("k42"), "w");
}

TEST(Overlay, SetManyEqualsSetInOrderWhateverTheKeyOrder) {
  MemoryStore base;
  base.commit({{"k2", "base"}}, {1, "h"}, {});
  const KeyValues batches[] = {
      {{"k1", "a"}, {"k2", "b"}, {"k3", "c"}, {"k5", "e"}},  // ascending, over buffered and committed keys
      {{"k9", "z"}, {"k0", "y"}, {"k4", "x"}, {"k3", "w"}, {"k9", "zz"}},  // unsorted, one key twice
      {},
  };
  for (const auto& batch : batches) {
    Overlay one_by_one(base), many(base);
    for (auto* o : {&one_by_one, &many}) {
      o->set("k3", "old");
      o->erase("k4");
      o->set("k6", "kept");
    }
    for (const auto& [k, v] : batch) one_by_one.set(k, v);
    KeyValues moved = batch;
    many.set_many(std::move(moved));
    EXPECT_TRUE(moved.empty());
    EXPECT_EQ(collect(many), collect(one_by_one));
    EXPECT_EQ(many.writes(), one_by_one.writes());
  }
}
