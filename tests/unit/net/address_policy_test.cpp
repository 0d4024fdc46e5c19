// The SSRF guard of outbound calls to participant URLs (src/net/address_policy.h): refused ranges, the
// configured exceptions, embedded IPv4 forms and malformed input.
#include "net/address_policy.h"

#include <gtest/gtest.h>

namespace net {
namespace {

bool allowed(const AddressPolicy& p, const std::string& ip) {
  return check_address(p, ip).empty();
}

TEST(AddressPolicy, RefusesInternalRangesByDefaultAndAllowsPublicAddresses) {
  AddressPolicy p;
  for (const char* ip :
       {"127.0.0.1",   "127.255.0.9",     "0.0.0.0",    "10.1.2.3",  "172.16.0.1",      "172.31.255.255",
        "192.168.1.1", "169.254.169.254", "100.64.0.1", "224.0.0.1", "255.255.255.255", "240.0.0.1",
        "198.18.0.1",  "192.0.0.8",       "::",         "::1",       "fc00::1",         "fd12:3456::1",
        "fe80::1",     "ff02::1"}) {
    EXPECT_FALSE(allowed(p, ip)) << ip;
  }
  for (const char* ip : {"8.8.8.8", "1.1.1.1", "172.32.0.1", "172.15.255.255", "192.169.0.1", "100.128.0.1",
                         "2001:4860:4860::8888", "2606:4700::1111"}) {
    EXPECT_TRUE(allowed(p, ip)) << ip;
  }
  EXPECT_NE(check_address(p, "127.0.0.1").find("loopback"), std::string::npos);
  EXPECT_NE(check_address(p, "169.254.169.254").find("link-local"), std::string::npos);
  EXPECT_NE(check_address(p, "10.0.0.1").find("inference.allowed_networks"), std::string::npos);
}

TEST(AddressPolicy, EmbeddedIpv4FormsAreJudgedByTheirIpv4Address) {
  AddressPolicy p;
  EXPECT_FALSE(allowed(p, "::ffff:127.0.0.1"));  // IPv4-mapped
  EXPECT_FALSE(allowed(p, "::ffff:169.254.169.254"));
  EXPECT_FALSE(allowed(p, "64:ff9b::10.0.0.1"));  // NAT64
  EXPECT_FALSE(allowed(p, "::127.0.0.1"));        // IPv4-compatible
  EXPECT_TRUE(allowed(p, "::ffff:8.8.8.8"));
  EXPECT_TRUE(allowed(p, "64:ff9b::8.8.8.8"));
}

TEST(AddressPolicy, ConfiguredNetworksAreAllowedAndNothingElse) {
  AddressPolicy p;
  p.allowed.push_back(*parse_network("127.0.0.0/8"));
  p.allowed.push_back(*parse_network("10.5.0.0/16"));
  p.allowed.push_back(*parse_network("fd00::/8"));
  EXPECT_TRUE(allowed(p, "127.0.0.1"));
  EXPECT_TRUE(allowed(p, "::ffff:127.0.0.2"));
  EXPECT_TRUE(allowed(p, "10.5.9.9"));
  EXPECT_FALSE(allowed(p, "10.6.0.1"));
  EXPECT_TRUE(allowed(p, "fd00::5"));
  EXPECT_FALSE(allowed(p, "fc00::5"));
  EXPECT_FALSE(allowed(p, "::1"));  // 127.0.0.0/8 does not allow IPv6 loopback
  EXPECT_FALSE(allowed(p, "169.254.169.254"));
  AddressPolicy single;
  single.allowed.push_back(*parse_network("192.168.1.7"));
  EXPECT_TRUE(allowed(single, "192.168.1.7"));
  EXPECT_FALSE(allowed(single, "192.168.1.8"));
}

TEST(AddressPolicy, MalformedInputIsRefused) {
  AddressPolicy p;
  EXPECT_FALSE(allowed(p, ""));
  EXPECT_FALSE(allowed(p, "localhost"));
  EXPECT_FALSE(allowed(p, "1.2.3"));
  EXPECT_FALSE(allowed(p, "8.8.8.8 "));
  for (const char* bad :
       {"", "10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/x", "a.b.c.d/8", "10.0.0.0/-1"}) {
    EXPECT_FALSE(parse_network(bad)) << bad;
  }
  auto n = parse_network("10.0.0.0/8");
  ASSERT_TRUE(n);
  EXPECT_EQ(n->prefix, 104u);
}

}  // namespace
}  // namespace net
