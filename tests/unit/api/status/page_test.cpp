#include "api/status/page.h"

#include <gtest/gtest.h>

#include "api/status/page_assets.h"

namespace api::status {
namespace {

using nlohmann::json;

const char* kEvil = "<img src=x onerror=alert(1)>\"'&";
const char* kEvilEscaped = "&lt;img src=x onerror=alert(1)&gt;&quot;&#39;&amp;";

json status_with(const std::string& s) {
  return json{
      {"participant", "gonka1me"},
      {"denom", "nicoin"},
      {"mlnode_version", "v3.0.8"},
      {"block", {{"height", 57}, {"time_unix_ms", 1764486000000}}},
      {"epoch",
       {{"epoch_index", 2},
        {"upcoming_epoch_index", nullptr},
        {"latest_epoch_index", 2},
        {"phase", "inference"},
        {"epoch_length", 30},
        {"stages", {{"poc_start", 30}, {"set_new_validators", 47}, {"next_poc_start", 60}}}}},
      {"nodes",
       json::array({{{"id", "me-node-" + s},
                     {"enabled", true},
                     {"status", "INFERENCE"},
                     {"intent", "INFERENCE"},
                     {"model", s},
                     {"models", {s, "Qwen/B"}},
                     {"mlnode_version", "v3.0.8"},
                     {"healthy", true},
                     {"weight", 42},
                     {"epoch_ml_nodes",
                      json::array({{{"model", s}, {"pre_poc_slot", true}, {"poc_slot", false}}})}}})},
      {"participants",
       {{"epoch_index", 2},
        {"total_weight", 300},
        {"members",
         json::array(
             {{{"address", "gonka1me"}, {"weight", 100}, {"url", s}, {"is_self", true}},
              {{"address", "gonka1" + s}, {"weight", 200}, {"url", "http://b"}, {"is_self", false}}})}}},
      {"inferences", json::array({{{"id", "chatcmpl-" + s},
                                   {"model", s},
                                   {"executor", "gonka1big"},
                                   {"executor_node", s},
                                   {"tokens", 30},
                                   {"cost", "3000"},
                                   {"validation", "not_sampled"},
                                   {"height", 55}}})}};
}

TEST(RenderPage, FirstPaintShowsEverySection) {
  std::string page = render_page(status_with("Qwen/A"));
  EXPECT_NE(page.find("<!doctype html>"), std::string::npos);
  EXPECT_NE(page.find("id=\"height\">57<"), std::string::npos);
  EXPECT_NE(page.find("id=\"epoch-index\">2<"), std::string::npos);
  EXPECT_NE(page.find(">inference</span>"), std::string::npos);
  EXPECT_NE(page.find("2025-11-30 07:00:00 UTC"), std::string::npos);
  // Stage heights: passed ones greyed, the next one marked, with the blocks left.
  EXPECT_NE(page.find("<tr data-stage=\"set_new_validators\" class=\"stage-done\">"), std::string::npos);
  EXPECT_NE(page.find("<tr data-stage=\"next_poc_start\" class=\"stage-next\"><td>next_poc_start</td>"
                      "<td class=\"num height\">60</td><td>in 3 blocks</td>"),
            std::string::npos);
  EXPECT_NE(page.find("<tr data-node-id=\"me-node-Qwen/A\">"), std::string::npos);
  EXPECT_NE(page.find("<td class=\"model mono\">Qwen/A</td>"), std::string::npos);
  EXPECT_NE(page.find("<td class=\"num weight\">42</td>"), std::string::npos);
  EXPECT_NE(
      page.find("<span class=\"badge slot-on\">PRE_POC</span><span class=\"badge slot-off\">POC</span>"),
      std::string::npos);
  EXPECT_NE(page.find("<td class=\"num share\">33.3 %</td>"), std::string::npos);
  EXPECT_NE(page.find("this participant"), std::string::npos);
  EXPECT_NE(page.find("<td class=\"num tokens\">30</td><td class=\"num cost\">3000 nicoin</td>"),
            std::string::npos);
  EXPECT_NE(page.find("<td class=\"executor mono\">gonka1big / Qwen/A</td>"), std::string::npos);
}

TEST(RenderPage, EscapesEverythingFromTheChainAndStrangers) {
  std::string page = render_page(status_with(kEvil));
  EXPECT_EQ(page.find("<img"), std::string::npos);
  EXPECT_EQ(page.find("onerror=alert(1)>"), std::string::npos);
  std::string escaped = kEvilEscaped;
  EXPECT_NE(page.find("<td class=\"model mono\">" + escaped + "</td>"), std::string::npos);
  EXPECT_NE(page.find("<td class=\"url mono\">" + escaped + "</td>"), std::string::npos);
  EXPECT_NE(page.find("data-node-id=\"me-node-" + escaped + "\""), std::string::npos);
  EXPECT_NE(page.find("data-inference-id=\"chatcmpl-" + escaped + "\""), std::string::npos);
}

TEST(RenderPage, SelfContainedAndRefreshing) {
  std::string page = render_page(status_with("Qwen/A"));
  // Nothing loaded from elsewhere: no src attribute, no stylesheet link, the only link is the JSON route.
  EXPECT_EQ(page.find(" src="), std::string::npos);
  EXPECT_EQ(page.find("<link"), std::string::npos);
  EXPECT_EQ(page.find("href=\"http"), std::string::npos);
  EXPECT_EQ(page.find("url("), std::string::npos);
  EXPECT_EQ(page.find("@import"), std::string::npos);
  EXPECT_NE(page.find("<style>" + std::string(kPageStyle) + "</style>"), std::string::npos);
  EXPECT_NE(page.find("<script>" + std::string(kPageScript) + "</script>"), std::string::npos);
  EXPECT_NE(page.find("<noscript><meta http-equiv=\"refresh\" content=\"10\"></noscript>"),
            std::string::npos);
  EXPECT_NE(page.find("data-refresh-ms=\"3000\""), std::string::npos);
  EXPECT_NE(kPageScript.find("fetch('v1/status'"), std::string::npos);
  EXPECT_EQ(kPageScript.find("innerHTML"), std::string::npos);  // the script writes text nodes only
}

TEST(RenderPage, EmptyOrMalformedStatusRendersPlaceholders) {
  for (const json& s : {json::object(), json::parse(R"({"nodes": 3, "epoch": [], "participants": "x",
                                                       "inferences": [{}], "block": {"height": "h"}})")}) {
    std::string page = render_page(s);
    EXPECT_NE(page.find("id=\"height\">\u2013<"), std::string::npos) << s;
    EXPECT_NE(page.find("no epoch read yet"), std::string::npos);
    EXPECT_NE(page.find("no nodes configured"), std::string::npos);
    EXPECT_NE(page.find("no epoch group read yet"), std::string::npos);
  }
}

}  // namespace
}  // namespace api::status
