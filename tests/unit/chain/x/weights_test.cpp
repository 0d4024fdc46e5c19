#include "chain/x/weights/weights.h"

#include <gtest/gtest.h>

#include "app/test_chain.h"
#include "chain/x/poc/poc.h"

using namespace chain;
using x::weights::Candidate;
using x::weights::compute_new_weights;

namespace {
Candidate candidate(char who, std::vector<x::weights::NodeNonces> nodes,
                    std::vector<x::weights::Verdict> verdicts) {
  return Candidate{test::byte_address(who), std::move(nodes), std::move(verdicts)};
}
}  // namespace

TEST(CalculateNodeWeight, CountsDistinctNonces) {
  std::vector<uint64_t> n{5, 1, 5, 3, 1, UINT64_MAX, UINT64_MAX};
  EXPECT_EQ(x::poc::calculate_node_weight(n), 4u);
  std::vector<uint64_t> none;
  EXPECT_EQ(x::poc::calculate_node_weight(none), 0u);
}

TEST(ComputeNewWeights, NoBatchesGiveNoParticipants) {
  std::vector<Candidate> none;
  auto r = compute_new_weights({{test::byte_address('v'), 10}}, none);
  EXPECT_TRUE(r.accepted.empty());
  EXPECT_TRUE(r.rejected.empty());
}

TEST(ComputeNewWeights, SingleParticipantValidatedByTheOnlyValidator) {
  std::vector<Candidate> c{
      candidate('a', {{"n1", {1, 2, 3}}, {"n0", {9}}}, {{test::byte_address('v'), false}})};
  auto r = compute_new_weights({{test::byte_address('v'), 1}}, c);
  ASSERT_EQ(r.accepted.size(), 1u);
  EXPECT_EQ(r.accepted[0].weight, 4u);
  ASSERT_EQ(r.accepted[0].nodes.size(), 2u);
  EXPECT_EQ(r.accepted[0].nodes[0].node_id, "n0");  // sorted by node id
  EXPECT_EQ(r.accepted[0].nodes[0].poc_weight, 1u);
  EXPECT_EQ(r.accepted[0].nodes[1].poc_weight, 3u);
}

TEST(ComputeNewWeights, AllInvalidOrNoMajorityIsRejectedAndExactlyHalfIsNotEnough) {
  std::map<types::Address, uint64_t> v{
      {test::byte_address('x'), 50}, {test::byte_address('y'), 30}, {test::byte_address('z'), 20}};
  std::vector<Candidate> c{
      candidate('a', {{"n", {1}}},
                {{test::byte_address('x'), true},
                 {test::byte_address('y'), true},
                 {test::byte_address('z'), true}}),  // all fraud
      candidate('b', {{"n", {1}}},
                {{test::byte_address('y'), false}, {test::byte_address('z'), false}}),  // exactly 1/2
      candidate('c', {{"n", {1}}},
                {{test::byte_address('x'), false}, {test::byte_address('z'), false}}),  // 70%
      candidate('d', {{"n", {1}}},
                {{test::byte_address('q'), false}, {test::byte_address('x'), false}}),  // q is no member: 50%
      candidate('e', {{"n", {1}}}, {}),                                                 // nobody judged
  };
  auto r = compute_new_weights(v, c);
  ASSERT_EQ(r.accepted.size(), 1u);
  EXPECT_EQ(r.accepted[0].participant, test::byte_address('c'));
  ASSERT_EQ(r.rejected.size(), 4u);
  EXPECT_EQ(r.rejected[0].participant, test::byte_address('a'));
  EXPECT_NE(r.rejected[0].reason.find("found fraud"), std::string::npos);
  EXPECT_NE(r.rejected[1].reason.find("did not judge it valid"), std::string::npos);
}

TEST(ComputeNewWeights, DuplicateNoncesAndRepeatedNodeEntriesCountOnce) {
  std::vector<Candidate> c{
      candidate('a', {{"n", {1, 2, 2}}, {"m", {1}}, {"n", {2, 3}}}, {{test::byte_address('v'), false}})};
  auto r = compute_new_weights({{test::byte_address('v'), 7}}, c);
  ASSERT_EQ(r.accepted.size(), 1u);
  // A nonce counts once per participant, for the smallest node id: m: {1}, n: {2,3}.
  EXPECT_EQ(r.accepted[0].weight, 3u);
  ASSERT_EQ(r.accepted[0].nodes.size(), 2u);
  EXPECT_EQ(r.accepted[0].nodes[0].node_id, "m");
  EXPECT_EQ(r.accepted[0].nodes[0].poc_weight, 1u);
  EXPECT_EQ(r.accepted[0].nodes[1].node_id, "n");
  EXPECT_EQ(r.accepted[0].nodes[1].poc_weight, 2u);
}

TEST(ComputeNewWeights, TheSameNoncesUnder256NodesCountOnce) {
  // Issue 13 fault 2: the same 1000 nonces submitted under 256 nodes counted 256 times.
  std::vector<x::weights::NodeNonces> nodes;
  for (int n = 0; n < 256; ++n) {
    x::weights::NodeNonces nn{"node-" + std::to_string(1000 + n), {}};
    for (uint64_t i = 0; i < 1000; ++i) nn.nonces.push_back(i);
    nodes.push_back(std::move(nn));
  }
  std::vector<Candidate> c{candidate('a', std::move(nodes), {{test::byte_address('v'), false}})};
  auto r = compute_new_weights({{test::byte_address('v'), 1}}, c);
  ASSERT_EQ(r.accepted.size(), 1u);
  EXPECT_EQ(r.accepted[0].weight, 1000u);
  ASSERT_EQ(r.accepted[0].nodes.size(), 256u);
  EXPECT_EQ(r.accepted[0].nodes[0].poc_weight, 1000u);  // node-1000, the smallest id
  for (size_t i = 1; i < 256; ++i) EXPECT_EQ(r.accepted[0].nodes[i].poc_weight, 0u);
  // Different participants may of course find the same nonces: each counts its own.
  std::vector<Candidate> two{candidate('a', {{"n", {1, 2}}}, {{test::byte_address('v'), false}}),
                             candidate('b', {{"n", {1, 2}}}, {{test::byte_address('v'), false}})};
  r = compute_new_weights({{test::byte_address('v'), 1}}, two);
  ASSERT_EQ(r.accepted.size(), 2u);
  EXPECT_EQ(r.accepted[0].weight, 2u);
  EXPECT_EQ(r.accepted[1].weight, 2u);
}

TEST(ComputeNewWeights, NoncesOfPreservedNodesAreDroppedBeforeAttribution) {
  // "a" holds POC_SLOT (preserved weight 9); its nonces must not take the shared nonce from "b".
  std::vector<Candidate> c{
      candidate('p', {{"a", {1, 2}}, {"b", {2, 3}}}, {{test::byte_address('v'), false}})};
  x::weights::PreservedWeights preserved{{test::byte_address('p'), {{"a", 9}}}};
  auto r = compute_new_weights({{test::byte_address('v'), 1}}, c, preserved);
  ASSERT_EQ(r.accepted.size(), 1u);
  EXPECT_EQ(r.accepted[0].weight, 11u);  // a: 9 preserved, b: {2,3}
  ASSERT_EQ(r.accepted[0].nodes.size(), 2u);
  EXPECT_EQ(r.accepted[0].nodes[1].poc_weight, 2u);
}

TEST(ComputeNewWeights, AParticipantListedTwiceIsOneEntryWithItsNodesMerged) {
  std::vector<Candidate> c{candidate('a', {{"n", {1, 2}}}, {{test::byte_address('v'), false}}),
                           candidate('b', {{"n", {1}}}, {}),
                           candidate('a', {{"n", {2, 3}}, {"m", {5}}}, {{test::byte_address('v'), true}})};
  auto r = compute_new_weights({{test::byte_address('v'), 7}}, c);
  ASSERT_EQ(r.accepted.size(), 1u);  // the first verdict of v counts; b has none
  EXPECT_EQ(r.accepted[0].participant, test::byte_address('a'));
  EXPECT_EQ(r.accepted[0].weight, 4u);  // m: {5}, n: {1,2,3}
  ASSERT_EQ(r.rejected.size(), 1u);
  EXPECT_EQ(r.rejected[0].participant, test::byte_address('b'));
}

TEST(ComputeNewWeights, NoValidatorWeightAcceptsNobodyAndNeverDivides) {
  std::vector<Candidate> c{candidate('a', {{"n", {1}}}, {{test::byte_address('v'), false}})};
  auto r = compute_new_weights({}, c);
  EXPECT_TRUE(r.accepted.empty());
  ASSERT_EQ(r.rejected.size(), 1u);
  std::vector<Candidate> c2{candidate('a', {{"n", {1}}}, {{test::byte_address('v'), false}})};
  r = compute_new_weights({{test::byte_address('v'), 0}}, c2);
  EXPECT_TRUE(r.accepted.empty());
  // A validated participant whose batches hold no nonce has no weight.
  std::vector<Candidate> c3{candidate('a', {{"n", {}}}, {{test::byte_address('v'), false}})};
  r = compute_new_weights({{test::byte_address('v'), 1}}, c3);
  EXPECT_TRUE(r.accepted.empty());
}

TEST(ComputeNewWeights, HugeValidatorWeightsAndNonceValuesDoNotOverflow) {
  // Validator weights summing beyond 2^64: the majority test uses 128-bit sums.
  std::map<types::Address, uint64_t> v{{test::byte_address('x'), UINT64_MAX},
                                       {test::byte_address('y'), UINT64_MAX},
                                       {test::byte_address('z'), 1}};
  std::vector<Candidate> c{candidate('a', {{"n", {0, UINT64_MAX, UINT64_MAX - 1}}},
                                     {{test::byte_address('x'), false}, {test::byte_address('z'), false}})};
  auto r = compute_new_weights(v, c);
  ASSERT_EQ(r.accepted.size(), 1u);  // UINT64_MAX + 1 > (2 * UINT64_MAX + 1) / 2
  EXPECT_EQ(r.accepted[0].weight, 3u);
  // A million distinct nonces on each of 4 nodes: exact sums.
  std::vector<x::weights::NodeNonces> nodes;
  for (int n = 0; n < 4; ++n) {
    x::weights::NodeNonces nn{"n" + std::to_string(n), {}};
    for (uint64_t i = 0; i < 1'000'000; ++i) nn.nonces.push_back(i * 4 + static_cast<uint64_t>(n));
    nn.nonces.push_back(7);  // a duplicate only for n = 3 (7 = 1*4 + 3)
    nodes.push_back(std::move(nn));
  }
  std::vector<Candidate> big{
      candidate('b', std::move(nodes), {{test::byte_address('x'), false}, {test::byte_address('y'), false}})};
  r = compute_new_weights(v, big);
  ASSERT_EQ(r.accepted.size(), 1u);
  // Nonce 7 is n3's own (1*4+3) and appended to every node: it counts once, for n0 (the smallest id).
  EXPECT_EQ(r.accepted[0].nodes[0].poc_weight, 1'000'001u);
  EXPECT_EQ(r.accepted[0].nodes[1].poc_weight, 1'000'000u);
  EXPECT_EQ(r.accepted[0].nodes[3].poc_weight, 999'999u);
  EXPECT_EQ(r.accepted[0].weight, 4'000'000u);  // exactly the participant's distinct nonces
}
