#include <gtest/gtest.h>

#include "net/http.h"
#include "net/uri.h"

namespace net {
namespace {

TEST(Url, ParsesHostPortPathAndQuery) {
  std::optional<Url> url = Url::parse("http://127.0.0.1:26657/blocks/5?x=1&y=2");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->scheme, "http");
  EXPECT_EQ(url->host, "127.0.0.1");
  EXPECT_EQ(url->port, 26657);
  EXPECT_EQ(url->target, "/blocks/5?x=1&y=2");
}

TEST(Url, DefaultsToPort80AndRootTarget) {
  std::optional<Url> url = Url::parse("http://localhost");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->host, "localhost");
  EXPECT_EQ(url->port, 80);
  EXPECT_EQ(url->target, "/");

  std::optional<Url> query_only = Url::parse("HTTP://example.org?a=b");
  ASSERT_TRUE(query_only);
  EXPECT_EQ(query_only->target, "/?a=b");
}

TEST(Url, AcceptsBracketedIpv6Hosts) {
  std::optional<Url> url = Url::parse("http://[::1]:8080/x");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->host, "::1");
  EXPECT_EQ(url->port, 8080);
}

TEST(Url, RejectsOtherSchemesAndBadPorts) {
  EXPECT_FALSE(Url::parse("https://example.org/"));
  EXPECT_FALSE(Url::parse("ftp://example.org/"));
  EXPECT_FALSE(Url::parse("example.org/"));
  EXPECT_FALSE(Url::parse("http://"));
  EXPECT_FALSE(Url::parse("http://host:0/"));
  EXPECT_FALSE(Url::parse("http://host:70000/"));
  EXPECT_FALSE(Url::parse("http://host:12ab/"));
}

TEST(PercentDecode, DecodesEscapesAndKeepsMalformedOnes) {
  EXPECT_EQ(percent_decode("/files/my%20file%2Fx"), "/files/my file/x");
  EXPECT_EQ(percent_decode("100%"), "100%");
  EXPECT_EQ(percent_decode("%zz%4"), "%zz%4");
  EXPECT_EQ(percent_decode("a+b"), "a+b");
  EXPECT_EQ(percent_decode("a+b", true), "a b");
}

TEST(PercentEncode, EscapesAllButUnreservedAndRoundTripsArbitraryBytes) {
  EXPECT_EQ(percent_encode("Qwen/Qwen2.5-7B_x~"), "Qwen%2FQwen2.5-7B_x~");
  EXPECT_EQ(percent_encode("a b&c=d?"), "a%20b%26c%3Dd%3F");
  const std::string bytes("\xff\xfe\x00%", 4);
  EXPECT_EQ(percent_encode(bytes), "%FF%FE%00%25");
  EXPECT_EQ(percent_decode(percent_encode(bytes)), bytes);
}

TEST(ParseQuery, SplitsAndDecodesPairs) {
  EXPECT_EQ(
      parse_query("a=1&b=x%20y&c=p+q&flag&&d="),
      (std::map<std::string, std::string>{{"a", "1"}, {"b", "x y"}, {"c", "p q"}, {"flag", ""}, {"d", ""}}));
}

}  // namespace
}  // namespace net
