#include "chain/x/bank/bank.h"

#include <gtest/gtest.h>

#include "chain/store/memory_store.h"
#include "chain/store/overlay.h"

using namespace chain;

namespace {
struct BankFixture {
  store::MemoryStore base;
  store::Overlay state{base};
  app::BlockInfo block{"c", 1, 0, "", ""};
  std::string hrp = "gonka";
  std::vector<types::Event> events;
  app::Context ctx{state, block, hrp, events};
};
}  // namespace

TEST(Bank, MintSendBurnKeepSupplyConsistent) {
  BankFixture f;
  types::Address a(20, 'a'), b(20, 'b');
  ASSERT_TRUE(x::bank::mint(f.ctx, a, {"nicoin", 100}));
  ASSERT_TRUE(x::bank::send(f.ctx, a, b, {"nicoin", 40}));
  ASSERT_TRUE(x::bank::burn(f.ctx, b, {"nicoin", 15}));
  EXPECT_EQ(x::bank::balance(f.state, a, "nicoin"), 60u);
  EXPECT_EQ(x::bank::balance(f.state, b, "nicoin"), 25u);
  EXPECT_EQ(x::bank::supply(f.state, "nicoin"), 85u);
  auto fail = x::bank::send(f.ctx, a, b, {"nicoin", 61});
  EXPECT_EQ(fail.error().code, codes::kInsufficientFunds);
  EXPECT_EQ(f.events.front().type, "mint");
}

TEST(Bank, CoinsFromProtoRejectsBadLists) {
  google::protobuf::RepeatedPtrField<inference::bank::Coin> coins;
  EXPECT_FALSE(x::bank::coins_from_proto(coins));
  auto* c = coins.Add();
  c->set_denom("nicoin");
  c->set_amount("0");
  EXPECT_FALSE(x::bank::coins_from_proto(coins));
  c->set_amount("5");
  EXPECT_TRUE(x::bank::coins_from_proto(coins));
  *coins.Add() = *c;
  EXPECT_FALSE(x::bank::coins_from_proto(coins));
}

TEST(Bank, ZeroBalancesAreNotStored) {
  BankFixture f;
  types::Address a(20, 'a'), b(20, 'b');
  ASSERT_TRUE(x::bank::mint(f.ctx, a, {"nicoin", 5}));
  ASSERT_TRUE(x::bank::send(f.ctx, a, b, {"nicoin", 5}));
  EXPECT_TRUE(x::bank::balances(f.state, a).empty());
}
