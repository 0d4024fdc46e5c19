#include "chain/store/rocksdb_store.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "chain/store/overlay.h"

using namespace chain::store;

namespace {
std::string temp_dir() {
  auto p = std::filesystem::temp_directory_path() /
           ("rocks-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
  std::filesystem::remove_all(p);
  return p.string();
}
}  // namespace

TEST(RocksDbStore, CommitPersistsStateHeightAndHashTogether) {
  std::string dir = temp_dir();
  {
    RocksDbStore db(dir);
    EXPECT_EQ(db.last_commit().height, 0u);
    db.commit({{"k", "v"}, {"gone", std::nullopt}}, {1, std::string(32, 'a')}, {{"blk/1", "block"}});
    db.commit({{"k2", "v2"}, {"k", std::nullopt}}, {2, std::string(32, 'b')}, {});
  }
  RocksDbStore reopened(dir);
  EXPECT_EQ(reopened.last_commit().height, 2u);
  EXPECT_EQ(reopened.last_commit().app_hash, std::string(32, 'b'));
  EXPECT_FALSE(reopened.get("k"));
  EXPECT_EQ(*reopened.get("k2"), "v2");
  EXPECT_EQ(*reopened.get_aux("blk/1"), "block");
  EXPECT_FALSE(reopened.get("blk/1"));  // node records never show up as state
  std::filesystem::remove_all(dir);
}

TEST(RocksDbStore, UncommittedBranchIsNotPersisted) {
  std::string dir = temp_dir();
  {
    RocksDbStore db(dir);
    db.commit({{"a", "1"}}, {1, std::string(32, 'a')}, {});
    Overlay block(db);
    block.set("a", "2");  // finalized but the process dies before commit
  }
  RocksDbStore reopened(dir);
  EXPECT_EQ(*reopened.get("a"), "1");
  EXPECT_EQ(reopened.last_commit().height, 1u);
  std::filesystem::remove_all(dir);
}

TEST(RocksDbStore, ScanIsOrderedAndSnapshotIsStable) {
  std::string dir = temp_dir();
  RocksDbStore db(dir);
  db.commit({{"p/2", "b"}, {"p/1", "a"}, {"q", "c"}}, {1, std::string(32, 'a')}, {});
  auto snap = db.snapshot();
  db.commit({{"p/3", "x"}}, {2, std::string(32, 'b')}, {});
  std::vector<std::string> keys;
  snap->scan_prefix("p/", [&](std::string_view k, std::string_view) {
    keys.emplace_back(k);
    return true;
  });
  EXPECT_EQ(keys, (std::vector<std::string>{"p/1", "p/2"}));
  keys.clear();
  db.scan_prefix("p/", [&](std::string_view k, std::string_view) {
    keys.emplace_back(k);
    return true;
  });
  EXPECT_EQ(keys, (std::vector<std::string>{"p/1", "p/2", "p/3"}));
  std::filesystem::remove_all(dir);
}

TEST(RocksDbStore, SecondOpenOfSameDirectoryFailsClearly) {
  std::string dir = temp_dir();
  RocksDbStore db(dir);
  try {
    RocksDbStore second(dir);
    FAIL() << "expected a lock error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(dir), std::string::npos);
  }
  std::filesystem::remove_all(dir);
}

TEST(RocksDbStore, StateAtAnswersKeptHeightsExactlyAndRefusesTheRest) {
  std::string dir = temp_dir();
  {
    RocksDbStore db(dir, /*history=*/2);
    for (uint64_t h = 1; h <= 5; ++h)
      db.commit({{"k", "v" + std::to_string(h)}}, {h, std::string(32, 'a')}, {});
    // Heights 3, 4 and 5 (the latest and the two before it); each view sees exactly its own height's value.
    EXPECT_EQ(db.oldest_kept_height(), 3u);
    for (uint64_t h = 3; h <= 5; ++h) {
      auto view = db.state_at(h);
      ASSERT_TRUE(view) << h;
      EXPECT_EQ(view->height, h);
      EXPECT_EQ(*view->reader->get("k"), "v" + std::to_string(h));
    }
    EXPECT_FALSE(db.state_at(2));  // pruned: never another height instead
    EXPECT_FALSE(db.state_at(6));  // not committed yet
    auto latest = db.state_at(0);
    ASSERT_TRUE(latest);
    EXPECT_EQ(latest->height, 5u);
    // A view held by a query outlives its eviction from the history.
    auto held = db.state_at(3);
    db.commit({{"k", "v6"}}, {6, std::string(32, 'a')}, {});
    EXPECT_FALSE(db.state_at(3));
    EXPECT_EQ(*held->reader->get("k"), "v3");
  }
  {
    // After a restart the history starts again at the height the store opened with.
    RocksDbStore reopened(dir, 2);
    EXPECT_EQ(reopened.oldest_kept_height(), 6u);
    EXPECT_FALSE(reopened.state_at(5));
    EXPECT_EQ(*reopened.state_at(6)->reader->get("k"), "v6");
  }
  {
    RocksDbStore latest_only(dir);  // history 0: the latest state only
    EXPECT_EQ(latest_only.oldest_kept_height(), 6u);
    EXPECT_TRUE(latest_only.state_at(6));
    EXPECT_FALSE(latest_only.state_at(5));
  }
  std::filesystem::remove_all(dir);
}
