// Which addresses an outbound call to a URL that a stranger chose may reach (issue 12 item 4; Gonka's API
// node was open to SSRF, api-node-facts §7). Participant URLs come from the chain: anyone who registers can
// name any host, including one that resolves to this machine or its private network. The policy is applied to
// every address the host name resolves to, right before connecting (net::CallOptions::check_address), so a
// name that resolves to an internal address is caught too; the HTTP client follows no redirects.
//
// Refused unless a configured network allows them (AddressPolicy::allowed, CIDR, e.g. "127.0.0.0/8" on a
// localnet where every participant runs on one machine):
//   IPv4  0.0.0.0/8 "unspecified", 127.0.0.0/8 "loopback", 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16
//   "private",
//         100.64.0.0/10 "shared (carrier-grade NAT)", 169.254.0.0/16 "link-local", 192.0.0.0/24 "IETF
//         protocol assignments", 198.18.0.0/15 "benchmarking", 224.0.0.0/4 "multicast", 240.0.0.0/4
//         "reserved" (with 255.255.255.255 "broadcast")
//   IPv6  ::/128 "unspecified", ::1/128 "loopback", fc00::/7 "unique local (private)", fe80::/10
//   "link-local",
//         ff00::/8 "multicast"; ::ffff:a.b.c.d (IPv4-mapped), 64:ff9b::a.b.c.d (NAT64) and ::a.b.c.d
//         (IPv4-compatible) are judged by their IPv4 address.
// Everything else (public unicast) is allowed.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace net {

// An IPv4 or IPv6 network; IPv4 is held as IPv4-mapped IPv6 (::ffff:a.b.c.d, prefix + 96).
struct Network {
  std::array<uint8_t, 16> address{};
  unsigned prefix = 0;  // 0-128
  bool contains(const std::array<uint8_t, 16>& ip) const;
};

// "10.1.0.0/16", "fd00::/8", or a single address ("192.0.2.7" = /32, "::1" = /128). nullopt when malformed
// (the host bits need not be zero).
std::optional<Network> parse_network(const std::string& text);
// An IPv4 or IPv6 address in text form (IPv4 mapped), nullopt when malformed.
std::optional<std::array<uint8_t, 16>> parse_ip(const std::string& text);

struct AddressPolicy {
  std::vector<Network> allowed;  // exceptions to the refused ranges above
};

// Empty when `ip` may be reached under `policy`; otherwise why not ("127.0.0.1 is loopback; allow it with
// inference.allowed_networks"). A malformed address is refused.
std::string check_address(const AddressPolicy& policy, const std::string& ip);

}  // namespace net
