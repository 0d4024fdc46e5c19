#include "common/json_text.h"

#include <gtest/gtest.h>

namespace common {
namespace {

TEST(JsonText, Utf8ValidationFollowsRfc3629) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("plain /inference/epoch"));
  EXPECT_TRUE(is_valid_utf8("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"));  // é € 😀
  EXPECT_TRUE(is_valid_utf8("\xf4\x8f\xbf\xbf"));                      // U+10FFFF
  EXPECT_FALSE(is_valid_utf8("\xff"));
  EXPECT_FALSE(is_valid_utf8("\xc3"));              // truncated
  EXPECT_FALSE(is_valid_utf8("\xc0\x80"));          // overlong NUL
  EXPECT_FALSE(is_valid_utf8("\xe0\x80\xaf"));      // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80"));      // surrogate U+D800
  EXPECT_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(is_valid_utf8("\xf5\x80\x80\x80"));
  EXPECT_FALSE(is_valid_utf8("ok\x80"));  // lone continuation byte
}

TEST(JsonText, PrintableKeepsUtf8AndEscapesTheRest) {
  EXPECT_EQ(printable("/inference/throughput/\xff"), "/inference/throughput/\\xff");
  EXPECT_EQ(printable("caf\xc3\xa9\n"), "caf\xc3\xa9\\x0a");
  EXPECT_EQ(printable("\xe2\x82"), "\\xe2\\x82");
  EXPECT_EQ(printable(std::string(300, 'a'), 4), "aaaa...");
  EXPECT_TRUE(is_valid_utf8(printable("\xc0\x80\xed\xa0\x80\xf4\x90\x80\x80")));
}

TEST(JsonText, JsonDumpReplacesInvalidBytesInsteadOfThrowing) {
  nlohmann::json j = {{"path", "/x/\xff"}, {"ok", "\xc3\xa9"}};
  EXPECT_THROW((void)j.dump(),
               nlohmann::json::type_error);  // what every plain dump() of a stranger's bytes did
  EXPECT_EQ(json_dump(j), "{\"ok\":\"\xc3\xa9\",\"path\":\"/x/\xef\xbf\xbd\"}");
}

}  // namespace
}  // namespace common
