// Parsing of the answers dapi's PoC orchestration reads: accounts with public keys and PoC batches.
#include <gtest/gtest.h>

#include "api/chain/parse.h"
#include "common/bytes.h"

namespace api::chain {
namespace {

TEST(ParseAccount, ReadsThePublicKey) {
  std::string key(33, '\x02');
  auto a = parse_account(R"({"address":"gonka1x","account_number":"3","sequence":"7","public_key":")" +
                         common::to_base64(key) + R"("})");
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a->public_key, key);
  EXPECT_EQ(a->sequence, 7u);
  auto none = parse_account(R"({"address":"gonka1x","account_number":"3","sequence":"0","public_key":""})");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->public_key.empty());
  auto bad =
      parse_account(R"({"address":"gonka1x","account_number":"3","sequence":"0","public_key":"AAAA"})");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("public_key"), std::string::npos);
}

TEST(ParsePocBatches, ReadsEveryBatchAndChecksLengths) {
  auto r = parse_poc_batches(R"({"epoch_index":2,"batches":[
      {"participant":"gonka1a","node_id":"n1","batch_id":"b1","nonces":[1,5],"dist":[0.5,1.25],
       "epoch_index":2,"poc_start_height":40,"received_at_height":42}]})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].nonces, (std::vector<uint64_t>{1, 5}));
  EXPECT_EQ((*r)[0].dist, (std::vector<double>{0.5, 1.25}));
  EXPECT_EQ((*r)[0].poc_start_height, 40u);
  auto bad = parse_poc_batches(R"({"batches":[{"participant":"a","node_id":"n","batch_id":"b","nonces":[1],
      "dist":[],"epoch_index":2,"poc_start_height":40,"received_at_height":42}]})");
  ASSERT_FALSE(bad.ok());
  auto neg = parse_poc_batches(R"({"batches":[{"participant":"a","node_id":"n","batch_id":"b","nonces":[-1],
      "dist":[1],"epoch_index":2,"poc_start_height":40,"received_at_height":42}]})");
  ASSERT_FALSE(neg.ok());
  EXPECT_NE(neg.error().message.find("nonces[0]"), std::string::npos);
}

}  // namespace
}  // namespace api::chain
