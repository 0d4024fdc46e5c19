#include "api/status/html.h"

#include <gtest/gtest.h>

namespace api::status {
namespace {

TEST(HtmlEscape, ReplacesEveryMarkupCharacter) {
  EXPECT_EQ(html_escape(R"(<script>alert("x" & 'y')</script>)"),
            "&lt;script&gt;alert(&quot;x&quot; &amp; &#39;y&#39;)&lt;/script&gt;");
}

TEST(HtmlEscape, KeepsPlainTextAndUtf8) {
  EXPECT_EQ(html_escape("Qwen/Qwen2.5-7B-Instruct"), "Qwen/Qwen2.5-7B-Instruct");
  EXPECT_EQ(html_escape("caf\xc3\xa9 \xe2\x80\x93"), "caf\xc3\xa9 \xe2\x80\x93");
  EXPECT_EQ(html_escape(""), "");
}

TEST(HtmlEscape, DoesNotEscapeTwiceByAccident) {
  EXPECT_EQ(html_escape("&amp;"), "&amp;amp;");
}

}  // namespace
}  // namespace api::status
