#include <gtest/gtest.h>

#include "net/http.h"

namespace net {
namespace {

using Events = std::vector<SseParser::Event>;

Events parse_in_pieces(const std::string& stream, const std::vector<std::size_t>& cuts) {
  SseParser parser;
  Events events;
  std::size_t start = 0;
  for (std::size_t cut : cuts) {
    for (auto& event : parser.feed(stream.substr(start, cut - start))) events.push_back(event);
    start = cut;
  }
  for (auto& event : parser.feed(stream.substr(start))) events.push_back(event);
  return events;
}

void expect_same(const Events& actual, const Events& expected, const std::string& context) {
  ASSERT_EQ(actual.size(), expected.size()) << context;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(actual[i].event, expected[i].event) << context << " event " << i;
    EXPECT_EQ(actual[i].data, expected[i].data) << context << " event " << i;
    EXPECT_EQ(actual[i].id, expected[i].id) << context << " event " << i;
  }
}

TEST(SseParser, ParsesEventTypeDataAndId) {
  SseParser parser;
  Events events = parser.feed("event: block\ndata: {\"height\":5}\nid: 5\n\n");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].event, "block");
  EXPECT_EQ(events[0].data, "{\"height\":5}");
  EXPECT_EQ(events[0].id, "5");
}

TEST(SseParser, JoinsDataLinesAndDefaultsTheTypeToMessage) {
  SseParser parser;
  Events events = parser.feed(": keep-alive comment\ndata: first\ndata:second\ndata\n\n");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].event, "message");
  EXPECT_EQ(events[0].data, "first\nsecond\n");
}

TEST(SseParser, IgnoresBlocksWithoutDataAndKeepsTheLastId) {
  SseParser parser;
  Events events = parser.feed("event: ping\n\nid: 7\ndata: a\n\ndata: b\n\n");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].data, "a");
  EXPECT_EQ(events[0].event, "message");
  EXPECT_EQ(events[1].data, "b");
  EXPECT_EQ(events[1].id, "7");
}

TEST(SseParser, AcceptsCrLfAndCrLineEndings) {
  SseParser parser;
  Events events = parser.feed("event: a\r\ndata: 1\r\n\r\nevent: b\rdata: 2\r\r");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].event, "a");
  EXPECT_EQ(events[0].data, "1");
  EXPECT_EQ(events[1].event, "b");
  EXPECT_EQ(events[1].data, "2");
}

TEST(SseParser, WaitsForTheBlankLineBeforeDispatching) {
  SseParser parser;
  EXPECT_TRUE(parser.feed("data: partial").empty());
  EXPECT_TRUE(parser.feed("\n").empty());
  Events events = parser.feed("\n");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data, "partial");
}

TEST(SseParser, GivesTheSameEventsForEverySplitIntoThreePieces) {
  const std::string stream =
      "event: block\r\ndata: {\"height\":1}\r\nid: 1\r\n\r\n"
      ": comment\n"
      "data: line one\ndata: line two\n\n"
      "event: stage\rdata: poc\r\r";
  const Events expected = parse_in_pieces(stream, {});
  ASSERT_EQ(expected.size(), 3u);
  EXPECT_EQ(expected[1].data, "line one\nline two");
  EXPECT_EQ(expected[1].id, "1");
  EXPECT_EQ(expected[2].event, "stage");
  for (std::size_t first = 0; first <= stream.size(); ++first) {
    for (std::size_t second = first; second <= stream.size(); ++second) {
      expect_same(parse_in_pieces(stream, {first, second}), expected,
                  "cuts at " + std::to_string(first) + "," + std::to_string(second));
    }
  }
}

TEST(SseEvent, FormatsTypeAndOneDataLinePerLine) {
  EXPECT_EQ(sse_event("block", "{\"h\":1}"), "event: block\ndata: {\"h\":1}\n\n");
  EXPECT_EQ(sse_event("msg", "a\nb"), "event: msg\ndata: a\ndata: b\n\n");
  EXPECT_EQ(sse_event("", "x"), "data: x\n\n");
}

TEST(SseEvent, RoundTripsThroughTheParser) {
  SseParser parser;
  Events events = parser.feed(sse_event("block", "line 1\n\nline 3") + sse_event("empty", ""));
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].event, "block");
  EXPECT_EQ(events[0].data, "line 1\n\nline 3");
  EXPECT_EQ(events[1].event, "empty");
  EXPECT_EQ(events[1].data, "");
}

}  // namespace
}  // namespace net
