#include "chain/store/rocksdb_store.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "chain/store/overlay.h"

using namespace chain::store;

namespace {
std::string temp_dir() {
  auto p = std::filesystem::temp_directory_path() / ("rocks-" + std::to_string(::getpid()) + "-" +
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
