#include "api/state/state_store.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "api/state/node_registry.h"

namespace api::state {
namespace {

class TempDir {
 public:
  TempDir() {
    path_ = std::filesystem::temp_directory_path() /
            ("dapi-state-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    std::filesystem::remove_all(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string str() const { return path_.string(); }

 private:
  static inline int counter_ = 0;
  std::filesystem::path path_;
};

config::NodeConfig node(const std::string& id, const std::string& host, uint16_t port) {
  config::NodeConfig n;
  n.id = id;
  n.host = host;
  n.inference_port = port;
  n.poc_port = static_cast<uint16_t>(port + 1);
  n.models["m"] = {};
  n.model_order = {"m"};
  return n;
}

TEST(StateStore, WritesAtomicallyAndSurvivesReopen) {
  TempDir dir;
  {
    auto s = StateStore::open(dir.str());
    ASSERT_TRUE(s) << s.error().message;
    EXPECT_EQ((*s)->last_processed_height(), 0u);
    ASSERT_TRUE((*s)->write(WriteSet().put("a/2", "two").put("a/1", "one").put("b", "x").erase("b")));
    ASSERT_TRUE((*s)->set_last_processed_height(42));
  }
  auto s = StateStore::open(dir.str());
  ASSERT_TRUE(s);
  EXPECT_EQ((*s)->last_processed_height(), 42u);
  auto rows = (*s)->scan("a/");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].second, "one");
  EXPECT_FALSE((*s)->get("b"));
}

TEST(StateStore, SecondOpenOfTheSameDirectoryIsRefusedClearly) {
  TempDir dir;
  auto first = StateStore::open(dir.str());
  ASSERT_TRUE(first);
  auto second = StateStore::open(dir.str());
  ASSERT_FALSE(second);
  EXPECT_NE(second.error().message.find("another dapi"), std::string::npos);
}

TEST(StateStore, U64KeysSortNumerically) {
  EXPECT_LT(keys::tx_queue(9), keys::tx_queue(10));
  EXPECT_LT(keys::tx_queue(255), keys::tx_queue(256));
  EXPECT_EQ(decode_u64(encode_u64(1234567890123ull)), 1234567890123ull);
}

TEST(NodeRegistry, AdminChangesOverlayTheConfigAndPersist) {
  TempDir dir;
  {
    auto s = StateStore::open(dir.str());
    ASSERT_TRUE(s);
    NodeRegistry r({node("a", "h", 10), node("b", "h", 20)}, **s);
    int changes = 0;
    r.on_change([&] { ++changes; });
    ASSERT_TRUE(r.add(node("c", "h", 30)));
    ASSERT_TRUE(r.remove("a"));
    ASSERT_TRUE(r.set_enabled("b", false));
    auto b2 = node("b", "g", 20);
    ASSERT_TRUE(r.replace("b", b2));
    EXPECT_EQ(changes, 4);
  }
  auto s = StateStore::open(dir.str());
  NodeRegistry r({node("a", "h", 10), node("b", "h", 20)}, **s);
  auto list = r.list();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].config.id, "b");
  EXPECT_EQ(list[0].config.host, "g");
  EXPECT_FALSE(list[0].enabled);
  EXPECT_EQ(list[1].config.id, "c");
  EXPECT_TRUE(list[1].enabled);
}

TEST(NodeRegistry, RefusesDuplicateIdsAndEndpointsAndUnknownIds) {
  TempDir dir;
  auto s = StateStore::open(dir.str());
  NodeRegistry r({node("a", "h", 10)}, **s);
  auto dup = r.add(node("a", "x", 50));
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code, 409u);
  auto ep = r.add(node("z", "h", 11));  // its inference port 11 is a's poc port
  ASSERT_FALSE(ep);
  EXPECT_EQ(ep.error().code, 409u);
  EXPECT_NE(ep.error().message.find("h:11 is already used by node \"a\""), std::string::npos);
  EXPECT_EQ(r.remove("nope").error().code, 404u);
  EXPECT_EQ(r.set_enabled("nope", true).error().code, 404u);
  EXPECT_EQ(r.replace("a", node("b", "h", 10)).error().code, 400u);
  EXPECT_EQ(r.list().size(), 1u);
  EXPECT_EQ(r.generation(), 0u);
}

}  // namespace
}  // namespace api::state
