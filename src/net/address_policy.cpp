#include "net/address_policy.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace net {
namespace {

using Ip = std::array<uint8_t, 16>;

struct Refused {
  const char* network;
  const char* why;
};

// The refused ranges (address_policy.h), IPv4 ones written as IPv4; mapped forms are judged by their IPv4
// part.
constexpr Refused kRefused[] = {
    {"0.0.0.0/8", "unspecified"},
    {"127.0.0.0/8", "loopback"},
    {"10.0.0.0/8", "private"},
    {"172.16.0.0/12", "private"},
    {"192.168.0.0/16", "private"},
    {"100.64.0.0/10", "shared (carrier-grade NAT)"},
    {"169.254.0.0/16", "link-local"},
    {"192.0.0.0/24", "IETF protocol assignments"},
    {"198.18.0.0/15", "benchmarking"},
    {"224.0.0.0/4", "multicast"},
    {"255.255.255.255/32", "broadcast"},
    {"240.0.0.0/4", "reserved"},
    {"::/128", "unspecified"},
    {"::1/128", "loopback"},
    {"fc00::/7", "unique local (private)"},
    {"fe80::/10", "link-local"},
    {"ff00::/8", "multicast"},
};

Ip mapped_v4(const uint8_t* v4) {
  Ip ip{};
  ip[10] = 0xff;
  ip[11] = 0xff;
  std::memcpy(ip.data() + 12, v4, 4);
  return ip;
}

// IPv4 embedded in NAT64 (64:ff9b::/96) or IPv4-compatible (::a.b.c.d, not :: or ::1) forms, as IPv4-mapped.
std::optional<Ip> embedded_v4(const Ip& ip) {
  static const uint8_t nat64[12] = {0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
  static const uint8_t zeros[12] = {};
  if (std::memcmp(ip.data(), nat64, 12) == 0) return mapped_v4(ip.data() + 12);
  if (std::memcmp(ip.data(), zeros, 12) == 0) {
    uint32_t tail = (uint32_t(ip[12]) << 24) | (uint32_t(ip[13]) << 16) | (uint32_t(ip[14]) << 8) | ip[15];
    if (tail > 1) return mapped_v4(ip.data() + 12);
  }
  return std::nullopt;
}

bool is_mapped(const Ip& ip) {
  static const uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return std::memcmp(ip.data(), prefix, 12) == 0;
}

std::string format(const Ip& ip) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (is_mapped(ip)) {
    inet_ntop(AF_INET, ip.data() + 12, buf, sizeof buf);
  } else {
    inet_ntop(AF_INET6, ip.data(), buf, sizeof buf);
  }
  return buf;
}

}  // namespace

bool Network::contains(const Ip& ip) const {
  unsigned full = prefix / 8, rest = prefix % 8;
  if (std::memcmp(ip.data(), address.data(), full) != 0) return false;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (ip[full] & mask) == (address[full] & mask);
}

std::optional<Ip> parse_ip(const std::string& text) {
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  uint8_t v4[4];
  if (inet_pton(AF_INET, text.c_str(), v4) == 1) return mapped_v4(v4);
  Ip ip{};
  if (inet_pton(AF_INET6, text.c_str(), ip.data()) == 1) return ip;
  return std::nullopt;
}

std::optional<Network> parse_network(const std::string& text) {
  auto slash = text.find('/');
  auto ip = parse_ip(text.substr(0, slash));
  if (!ip) return std::nullopt;
  bool v4 = text.find(':') == std::string::npos;
  unsigned max = v4 ? 32 : 128;
  unsigned prefix = max;
  if (slash != std::string::npos) {
    std::string p = text.substr(slash + 1);
    auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), prefix);
    if (p.empty() || ec != std::errc() || end != p.data() + p.size() || prefix > max) return std::nullopt;
  }
  return Network{*ip, v4 ? prefix + 96 : prefix};
}

std::string check_address(const AddressPolicy& policy, const std::string& text) {
  auto parsed = parse_ip(text);
  if (!parsed) return "\"" + text + "\" is not an IP address";
  Ip ip = *parsed;
  for (const auto& n : policy.allowed) {
    if (n.contains(ip)) return "";
  }
  Ip judged = embedded_v4(ip).value_or(ip);
  if (judged != ip) {
    for (const auto& n : policy.allowed) {
      if (n.contains(judged)) return "";
    }
  }
  for (const auto& r : kRefused) {
    auto n = parse_network(r.network);
    if (n && n->contains(judged)) {
      return format(ip) + " is " + r.why + " (" + r.network +
             "); outbound calls to participant URLs reach only public addresses unless "
             "inference.allowed_networks allows it";
    }
  }
  return "";
}

}  // namespace net
