#include "chain/x/settle/settle.h"

#include <gtest/gtest.h>

#include <cmath>

#include "chain/store/memory_store.h"
#include "chain/store/overlay.h"
#include "chain/x/bank/bank.h"
#include "chain/x/epochs/epochs.h"

using namespace chain;
using types::u128;
using x::settle::ParticipantInput;

namespace {

types::Address numbered_address(uint32_t i) {
  types::Address a(20, '\0');
  for (int b = 0; b < 4; ++b) a[static_cast<size_t>(16 + b)] = static_cast<char>((i >> (8 * (3 - b))) & 0xff);
  return a;
}

// Deterministic pseudo-random numbers (splitmix64).
struct Rng {
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
};

x::settle::SettleParams settle_params(uint64_t initial, uint64_t decay, uint32_t bps = 1000) {
  x::settle::SettleParams p;
  p.set_initial_epoch_subsidy(initial);
  p.set_decay_factor_e18(decay);
  p.set_coverage_bonus_bps(bps);
  return p;
}

// Checks every documented identity of a split against an independent recomputation.
void check_split(const x::settle::SettleAmounts& r, uint64_t subsidy, uint32_t bps,
                 const std::vector<ParticipantInput>& in) {
  u128 w = 0;
  size_t positive = 0;
  for (const auto& p : in) {
    w += p.weight;
    positive += p.weight > 0;
  }
  ASSERT_EQ(r.total_weight, w);
  ASSERT_EQ(r.amounts.size(), positive);
  u128 base_sum = 0, bonus_sum = 0, paid = 0;
  size_t j = 0;
  for (const auto& p : in) {
    if (p.weight == 0) continue;
    const auto& a = r.amounts[j++];
    ASSERT_EQ(a.participant(), p.participant);
    u128 base = static_cast<u128>(subsidy) * p.weight / w;
    u128 bonus = p.covers_all_models ? base * bps / 10000 : 0;
    ASSERT_EQ(a.base_reward(), static_cast<uint64_t>(base));
    ASSERT_EQ(a.bonus(), static_cast<uint64_t>(bonus));
    ASSERT_EQ(a.total(), static_cast<uint64_t>(base + bonus));
    base_sum += base;
    bonus_sum += bonus;
    paid += a.total();
  }
  EXPECT_EQ(r.base_total, static_cast<uint64_t>(base_sum));
  EXPECT_EQ(r.bonus_total, static_cast<uint64_t>(bonus_sum));
  EXPECT_EQ(r.paid, static_cast<uint64_t>(paid));
  EXPECT_LE(base_sum, subsidy);
  EXPECT_EQ(r.remainder, subsidy - static_cast<uint64_t>(base_sum));
  if (positive > 0) {
    EXPECT_LT(r.remainder, positive);  // each floor loses less than one unit
  }
  // Conservation: minted = paid + remainder = subsidy + bonus.
  EXPECT_EQ(static_cast<u128>(r.minted), static_cast<u128>(r.paid) + r.remainder);
  EXPECT_EQ(static_cast<u128>(r.minted), static_cast<u128>(subsidy) + bonus_sum);
}

}  // namespace

// ---- subsidy decay

TEST(SettleDecay, TenThousandEpochsDecayMonotonicallyWithoutOverflowAndMatchThePowerLaw) {
  auto p = settle_params(x::settle::kMaxInitialEpochSubsidy, x::settle::default_params().decay_factor_e18());
  EXPECT_EQ(x::settle::epoch_subsidy(p, 0), 0u);  // genesis epoch
  EXPECT_EQ(x::settle::epoch_subsidy(p, 1), x::settle::kMaxInitialEpochSubsidy);
  long double r = static_cast<long double>(p.decay_factor_e18()) / 1e18L;
  uint64_t previous = UINT64_MAX;
  for (uint64_t e = 1; e <= 10'001; ++e) {
    uint64_t s = x::settle::epoch_subsidy(p, e);
    ASSERT_LE(s, previous) << e;
    previous = s;
    if (e % 1000 == 1) {
      long double expected =
          static_cast<long double>(p.initial_epoch_subsidy()) * std::pow(r, static_cast<long double>(e - 1));
      EXPECT_NEAR(static_cast<long double>(s) / expected, 1.0L, 1e-12L) << "epoch " << e;
    }
  }
  // 10,000 epochs at exp(-0.000475) each: exp(-4.75) of the start.
  EXPECT_NEAR(static_cast<double>(previous) / static_cast<double>(x::settle::kMaxInitialEpochSubsidy),
              std::exp(-4.75), 1e-9);
  // Square-and-multiply equals the epoch-by-epoch product on exact cases and never wraps for huge exponents.
  EXPECT_EQ(x::settle::decay_power_e18(x::settle::kOneE18, 123456789), x::settle::kOneE18);
  EXPECT_EQ(x::settle::decay_power_e18(500'000'000'000'000'000ULL, 10), x::settle::kOneE18 / 1024);
  // (1 − 10^-18)^(2^64 − 1) = exp(−18.446744...) ≈ 9.74e-9: 64 squarings, no overflow, still accurate.
  EXPECT_NEAR(static_cast<double>(x::settle::decay_power_e18(999'999'999'999'999'999ULL, UINT64_MAX)) / 1e18,
              std::exp(-18.446744073709551615), 1e-15);
  EXPECT_EQ(x::settle::decay_power_e18(1, 2), 0u);
  EXPECT_EQ(x::settle::epoch_subsidy(settle_params(1000, x::settle::kOneE18), 10'000), 1000u);  // no decay
  EXPECT_EQ(x::settle::epoch_subsidy(p, UINT64_MAX), 0u);
}

TEST(SettleParams, DefaultsAreValidAndOutOfRangeValuesAreRejected) {
  for (const char* preset : {"localnet", "testnet", "mainnet"}) {
    EXPECT_TRUE(x::settle::validate_params(x::settle::default_params(preset))) << preset;
    EXPECT_EQ(x::settle::default_params(preset).coverage_bonus_bps(), 1000u);
  }
  EXPECT_FALSE(
      x::settle::validate_params(settle_params(x::settle::kMaxInitialEpochSubsidy + 1, x::settle::kOneE18)));
  EXPECT_FALSE(x::settle::validate_params(settle_params(1, 0)));
  EXPECT_FALSE(x::settle::validate_params(settle_params(1, x::settle::kOneE18 + 1)));
  EXPECT_FALSE(x::settle::validate_params(settle_params(1, 1, 10001)));
  EXPECT_FALSE(x::settle::params_from_json({{"coverage_bonus", 5}}));
  auto p = x::settle::params_from_json(
      {{"initial_epoch_subsidy", "2000000"}, {"decay_factor_e18", 1000000000000000000ULL}});
  ASSERT_TRUE(p);
  EXPECT_EQ(p->initial_epoch_subsidy(), 2'000'000u);
  EXPECT_EQ(p->coverage_bonus_bps(), 1000u);
}

// ---- split, bonus, rounding, conservation

TEST(SettleSplit, EqualWeightsCoveringParticipantGetsExactlyTenPercentMore) {
  std::vector<ParticipantInput> in{
      {numbered_address(1), 100, true}, {numbered_address(2), 100, false}, {numbered_address(3), 0, true}};
  auto r = x::settle::get_settle_amounts(2'000'000, 1000, in);
  check_split(r, 2'000'000, 1000, in);
  ASSERT_EQ(r.amounts.size(), 2u);  // weight 0 gets nothing
  EXPECT_EQ(r.amounts[0].base_reward(), 1'000'000u);
  EXPECT_EQ(r.amounts[0].bonus(), 100'000u);
  EXPECT_EQ(r.amounts[0].total(), 1'100'000u);
  EXPECT_EQ(r.amounts[1].total(), 1'000'000u);
  EXPECT_EQ(r.amounts[0].total() * 10, r.amounts[1].total() * 11);
  EXPECT_EQ(r.remainder, 0u);
  EXPECT_EQ(r.minted, 2'100'000u);
}

TEST(SettleSplit, RoundingAndConservationWithManyParticipants) {
  Rng rng{7};
  for (int round = 0; round < 50; ++round) {
    size_t n = 1 + rng.next() % 2000;
    std::vector<ParticipantInput> in;
    for (size_t i = 0; i < n; ++i) {
      uint64_t w = rng.next() % 4 == 0 ? 0 : rng.next() % 1'000'000'007;
      in.push_back({numbered_address(static_cast<uint32_t>(i)), w, rng.next() % 3 == 0});
    }
    uint64_t subsidy = rng.next() % x::settle::kMaxInitialEpochSubsidy;
    uint32_t bps = static_cast<uint32_t>(rng.next() % 10001);
    check_split(x::settle::get_settle_amounts(subsidy, bps, in), subsidy, bps, in);
  }
  // Weights near 2^64 (Σ far above 2^64) with the largest subsidy: still exact, nothing wraps.
  std::vector<ParticipantInput> huge;
  for (uint32_t i = 0; i < 1000; ++i) huge.push_back({numbered_address(i), UINT64_MAX - i, i % 2 == 0});
  check_split(x::settle::get_settle_amounts(x::settle::kMaxInitialEpochSubsidy, 10000, huge),
              x::settle::kMaxInitialEpochSubsidy, 10000, huge);
  // Three equal weights of a subsidy of 100: 33 each, remainder 1 to the community pool.
  std::vector<ParticipantInput> three{
      {numbered_address(1), 5, false}, {numbered_address(2), 5, false}, {numbered_address(3), 5, false}};
  auto r = x::settle::get_settle_amounts(100, 1000, three);
  EXPECT_EQ(r.amounts[2].total(), 33u);
  EXPECT_EQ(r.remainder, 1u);
  // Nobody with weight: the whole subsidy goes to the community pool; no payouts.
  r = x::settle::get_settle_amounts(100, 1000, {{numbered_address(1), 0, true}});
  EXPECT_TRUE(r.amounts.empty());
  EXPECT_EQ(r.remainder, 100u);
  EXPECT_EQ(r.minted, 100u);
  // A single participant takes everything.
  r = x::settle::get_settle_amounts(101, 1000, {{numbered_address(1), 7, true}});
  EXPECT_EQ(r.amounts[0].base_reward(), 101u);
  EXPECT_EQ(r.amounts[0].bonus(), 10u);
  EXPECT_EQ(r.remainder, 0u);
}

// ---- coverage (get_participant_model_coverage over formed groups)

namespace {

x::models::Model coverage_model(const std::string& id) {
  auto m = x::models::genesis_models("localnet").at(0);
  m.set_id(id);
  return m;
}

x::nodes::HardwareNode hw(const std::string& id, std::vector<std::string> models) {
  x::nodes::HardwareNode n;
  n.set_local_id(id);
  for (auto& m : models) n.add_models(m);
  return n;
}

struct Member {
  types::Address address;
  std::vector<x::nodes::HardwareNode> nodes;
};

// Forms and stores epoch 1 with `models` and `members` (every node has poc_weight 10).
void form(store::KvStore& state, std::vector<std::string> model_ids, std::vector<Member> members) {
  x::groups::FormationInput in;
  in.epoch_index = 1;
  in.poc_start_height = 10;
  in.height = 23;
  std::sort(model_ids.begin(), model_ids.end());
  for (const auto& id : model_ids) in.models.push_back(coverage_model(id));
  std::sort(members.begin(), members.end(),
            [](const Member& a, const Member& b) { return a.address < b.address; });
  for (auto& m : members) {
    x::groups::FormationMember fm;
    fm.address = m.address;
    fm.nodes = m.nodes;
    for (const auto& n : m.nodes) {
      fm.node_weights.push_back({n.local_id(), 10});
      fm.weight += 10;
    }
    in.members.push_back(std::move(fm));
  }
  x::groups::store_epoch_groups(state, x::groups::build_epoch_groups(in));
}

bool covers(const store::KvReader& s, uint32_t who) {
  return x::settle::get_participant_model_coverage(s, 1, numbered_address(who));
}

}  // namespace

TEST(SettleCoverage, OneModel) {
  store::MemoryStore base;
  store::Overlay s(base);
  form(s, {"m/a"}, {{numbered_address(1), {hw("n1", {"m/a"})}}, {numbered_address(2), {}}});
  EXPECT_TRUE(covers(s, 1));
  EXPECT_FALSE(covers(s, 2));  // a member without MLNodes
  EXPECT_FALSE(covers(s, 3));  // not a member
  EXPECT_FALSE(x::settle::get_participant_model_coverage(s, 2, numbered_address(1)));  // no such epoch
}

TEST(SettleCoverage, TwoModels) {
  store::MemoryStore base;
  store::Overlay s(base);
  form(s, {"m/a", "m/b"},
       {{numbered_address(1), {hw("n1", {"m/a", "m/b"})}},  // one node declaring both serves only m/a
        {numbered_address(2), {hw("n1", {"m/a"})}},         // only one model
        {numbered_address(3), {hw("n1", {"m/b"}), hw("n2", {"m/a"})}},  // two nodes, one model each
        {numbered_address(4),
         {hw("n1", {"m/gone", "m/b"})}}});  // a model no longer in the registry does not count
  EXPECT_FALSE(covers(s, 1));               // issue 13 fault 3: one node cannot cover two models
  EXPECT_FALSE(covers(s, 2));
  EXPECT_TRUE(covers(s, 3));
  EXPECT_FALSE(covers(s, 4));
}

TEST(SettleCoverage, NeedsANodeServingEachModelNotOneDeclaringThemAll) {
  store::MemoryStore base;
  store::Overlay s(base);
  form(s, {"m/a", "m/b"},
       {{numbered_address(1),
         {hw("all", {"m/a", "m/b"}), hw("b", {"m/b", "m/a"})}},  // "all" serves m/a, "b" serves m/b
        {numbered_address(2),
         {hw("x", {"m/a", "m/b"}), hw("y", {"m/a", "m/b"})}}});  // both serve m/a: m/b uncovered
  EXPECT_TRUE(covers(s, 1));
  EXPECT_FALSE(covers(s, 2));
}

TEST(SettleCoverage, FiveModels) {
  std::vector<std::string> ids{"m/1", "m/2", "m/3", "m/4", "m/5"};
  std::vector<x::nodes::HardwareNode> one_each, four;
  for (size_t i = 0; i < ids.size(); ++i) {
    one_each.push_back(hw("n" + std::to_string(i), {ids[i]}));
    if (i < 4) four.push_back(hw("n" + std::to_string(i), {ids[i]}));
  }
  store::MemoryStore base;
  store::Overlay s(base);
  form(s, ids,
       {{numbered_address(1), one_each},
        {numbered_address(2), four},
        {numbered_address(3), {hw("all", ids)}},
        {numbered_address(4), {hw("x", {"m/3"})}}});
  EXPECT_TRUE(covers(s, 1));
  EXPECT_FALSE(covers(s, 2));
  EXPECT_FALSE(covers(s, 3));  // one node declaring all five models serves one of them
  EXPECT_FALSE(covers(s, 4));
  // An epoch without model sub-groups gives nobody the bonus.
  EXPECT_FALSE(x::settle::covers_every_model({}));
}

// ---- settle_epoch over state: mints exactly what it records, once

TEST(SettleEpoch, MintsRecordsAndConservesOnceAndPaysNothingForACarriedOverEpoch) {
  store::MemoryStore base;
  store::Overlay s(base);
  x::settle::set_params(s, settle_params(2'000'001, x::settle::kOneE18));
  // Equal weights (two nodes of 10 each); numbered_address(1) serves both models, numbered_address(2) serves
  // m/a twice.
  form(s, {"m/a", "m/b"},
       {{numbered_address(1), {hw("n1", {"m/a", "m/b"}), hw("n2", {"m/b"})}},
        {numbered_address(2), {hw("n1", {"m/a"}), hw("n2", {"m/a", "m/b"})}}});
  x::epochs::Epoch e;
  e.set_index(1);
  e.set_poc_start_height(10);
  e.set_formed(true);
  x::epochs::set_epoch(s, e);
  app::BlockInfo block{"c", 58, 0, "", ""};
  std::string hrp = "gonka";
  std::vector<types::Event> events;
  app::Context ctx(s, block, hrp, events);
  uint64_t supply = x::bank::supply(s, "nicoin");
  ASSERT_TRUE(x::settle::settle_epoch(ctx, 1));
  auto st = x::settle::get_epoch_settlement(s, 1);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->subsidy(), 2'000'001u);
  EXPECT_EQ(st->remainder(), 1u);
  EXPECT_EQ(st->bonus_total(), 100'000u);
  EXPECT_EQ(st->minted(), st->paid() + st->remainder());
  EXPECT_EQ(x::bank::supply(s, "nicoin") - supply, st->minted());
  EXPECT_EQ(x::bank::balance(s, numbered_address(1), "nicoin"), 1'100'000u);
  EXPECT_EQ(x::bank::balance(s, numbered_address(2), "nicoin"), 1'000'000u);
  EXPECT_EQ(x::bank::balance(s, x::settle::community_pool(), "nicoin"), 1u);
  EXPECT_EQ(x::settle::get_settle_amount(s, 1, numbered_address(1))->epoch_index(), 1u);
  EXPECT_FALSE(x::settle::get_settle_amount(s, 1, numbered_address(3)));
  EXPECT_FALSE(x::settle::settle_epoch(ctx, 1));  // once
  EXPECT_EQ(x::bank::balance(s, numbered_address(1), "nicoin"), 1'100'000u);

  // Epoch 2 carried over: recorded, nothing minted.
  e.set_index(2);
  e.set_carried_over(true);
  x::epochs::set_epoch(s, e);
  x::groups::EpochGroupData parent = *x::groups::get_group(s, 1, "");
  parent.set_epoch_index(2);
  x::groups::FormedGroups carried;
  carried.parent.data = parent;
  carried.parent.members = x::groups::get_members(s, 1, "");
  x::groups::store_epoch_groups(s, carried);
  supply = x::bank::supply(s, "nicoin");
  ASSERT_TRUE(x::settle::settle_epoch(ctx, 2));
  EXPECT_EQ(x::settle::get_epoch_settlement(s, 2)->minted(), 0u);
  EXPECT_EQ(x::bank::supply(s, "nicoin"), supply);
}
