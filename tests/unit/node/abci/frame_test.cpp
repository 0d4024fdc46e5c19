// Framing of the ABCI socket protocol against hand-written byte vectors.
#include "node/abci/frame.h"

#include <gtest/gtest.h>

#include "abci/types.pb.h"
#include "wire.h"

namespace node::abci {
namespace {

using test::hex;

std::vector<std::string> read_all(FrameReader& reader) {
  std::vector<std::string> frames;
  std::string f;
  while (reader.next(f) == FrameReader::Status::kFrame) frames.push_back(f);
  return frames;
}

TEST(AbciFrame, EncodesFlushRequestAsCometBftDoes) {
  // Request{flush: RequestFlush{}}: field 2, wire type 2 -> tag 0x12; empty message -> length 0x00.
  // The frame prefixes those 2 bytes with their length as an unsigned varint: 0x02.
  tendermint::abci::Request req;
  req.mutable_flush();
  EXPECT_EQ(req.SerializeAsString(), hex("12 00"));
  EXPECT_EQ(encode_frame(req.SerializeAsString()), hex("02 12 00"));
}

TEST(AbciFrame, EncodesEchoRequest) {
  // RequestEcho{message: "hi"} = 0a 02 68 69 (field 1 string, length 2, "hi").
  // Request{echo: ...}        = 0a 04 <those 4 bytes> (field 1 of the envelope).
  // Frame                     = 06 <the 6 bytes>.
  tendermint::abci::Request req;
  req.mutable_echo()->set_message("hi");
  EXPECT_EQ(encode_frame(req.SerializeAsString()), hex("06 0a 04 0a 02 68 69"));
}

TEST(AbciFrame, LengthPrefixIsUnsignedVarintNotZigZag) {
  // 300 = 0b10_0101100: low 7 bits 0x2c with the continuation bit -> 0xac, then 300 >> 7 = 2 -> 0x02.
  // (Tendermint <= 0.34 used zig-zag: 600 -> d8 04. We must not.)
  std::string message(300, 'x');
  std::string frame = encode_frame(message);
  ASSERT_EQ(frame.size(), 302u);
  EXPECT_EQ(frame.substr(0, 2), hex("ac 02"));
  EXPECT_EQ(encode_frame(""), hex("00"));
  EXPECT_EQ(encode_frame(std::string(127, 'a')).substr(0, 1), hex("7f"));
  EXPECT_EQ(encode_frame(std::string(128, 'a')).substr(0, 2), hex("80 01"));
  EXPECT_EQ(encode_frame(std::string(16384, 'a')).substr(0, 3), hex("80 80 01"));
}

TEST(AbciFrame, ReadsSeveralFramesFromOneRead) {
  // An Info request and its Flush arrive in one TCP read, as CometBFT's buffered writer sends them:
  //   Request{info: RequestInfo{version: "0.38.19"}} = 1a 09 0a 07 "0.38.19"  -> frame 0b ...
  //   Request{flush: {}}                             = 12 00                  -> frame 02 12 00
  std::string bytes = hex("0b 1a 09 0a 07") + "0.38.19" + hex("02 12 00");
  FrameReader reader;
  reader.feed(bytes);
  auto frames = read_all(reader);
  ASSERT_EQ(frames.size(), 2u);
  tendermint::abci::Request info, flush;
  ASSERT_TRUE(info.ParseFromString(frames[0]));
  ASSERT_TRUE(flush.ParseFromString(frames[1]));
  EXPECT_EQ(info.info().version(), "0.38.19");
  EXPECT_TRUE(flush.has_flush());
  EXPECT_EQ(reader.buffered(), 0u);
}

TEST(AbciFrame, ReassemblesFramesSplitAtEveryByte) {
  std::string big(1000, 'z');  // needs a 2-byte prefix: e8 07
  std::string stream = encode_frame("a") + encode_frame(big) + encode_frame("") + encode_frame("bc");
  ASSERT_EQ(stream.substr(2, 2), hex("e8 07"));  // after the 2 bytes of the first frame
  FrameReader reader;
  std::vector<std::string> frames;
  for (char c : stream) {
    reader.feed(std::string_view(&c, 1));
    auto got = read_all(reader);
    frames.insert(frames.end(), got.begin(), got.end());
  }
  ASSERT_EQ(frames.size(), 4u);
  EXPECT_EQ(frames[0], "a");
  EXPECT_EQ(frames[1], big);
  EXPECT_EQ(frames[2], "");
  EXPECT_EQ(frames[3], "bc");
}

TEST(AbciFrame, WaitsForTheRestOfAFrame) {
  FrameReader reader;
  std::string f;
  reader.feed(hex("05 aa bb"));  // announces 5 bytes, has 2
  EXPECT_EQ(reader.next(f), FrameReader::Status::kNeedMore);
  reader.feed(hex("80"));  // still 3 of 5
  EXPECT_EQ(reader.next(f), FrameReader::Status::kNeedMore);
  reader.feed(hex("cc dd"));
  ASSERT_EQ(reader.next(f), FrameReader::Status::kFrame);
  EXPECT_EQ(f, hex("aa bb 80 cc dd"));
  EXPECT_EQ(reader.next(f), FrameReader::Status::kNeedMore);
}

TEST(AbciFrame, AcceptsNonMinimalVarintLikeGo) {
  // Go's binary.Uvarint accepts 80 00 as 0; so do we.
  FrameReader reader;
  reader.feed(hex("80 00 01 7f"));
  auto frames = read_all(reader);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0], "");
  EXPECT_EQ(frames[1], hex("7f"));
}

TEST(AbciFrame, RejectsFramesOverTheLimitBeforeBuffering) {
  FrameReader reader(1024);
  std::string f;
  reader.feed(hex("80 08"));  // 1024: exactly the limit, fine
  EXPECT_EQ(reader.next(f), FrameReader::Status::kNeedMore);
  FrameReader small(1024);
  small.feed(hex("81 08"));  // 1025
  EXPECT_EQ(small.next(f), FrameReader::Status::kError);
  EXPECT_EQ(small.error(), "frame of 1025 bytes exceeds the limit of 1024 bytes");
}

TEST(AbciFrame, RejectsVarintLongerThanTenBytes) {
  FrameReader reader;
  std::string f;
  reader.feed(hex("80 80 80 80 80 80 80 80 80 80 01"));  // 11 bytes
  EXPECT_EQ(reader.next(f), FrameReader::Status::kError);
  EXPECT_EQ(reader.error(), "frame length prefix overflows 64 bits");  // the 10th byte already has bit 7 set
  FrameReader eleven;
  eleven.feed(hex("80 80 80 80 80 80 80 80 80 81 01"));
  EXPECT_EQ(eleven.next(f), FrameReader::Status::kError);
}

TEST(AbciFrame, RejectsVarintOverflowingSixtyFourBits) {
  // Ten bytes whose last one is 0x02: bit 64 would be set.
  FrameReader reader;
  std::string f;
  reader.feed(hex("ff ff ff ff ff ff ff ff ff 02"));
  EXPECT_EQ(reader.next(f), FrameReader::Status::kError);
  EXPECT_EQ(reader.error(), "frame length prefix overflows 64 bits");
  // 2^63 fits in 64 bits (ten bytes, last 0x01) but is far above the frame limit.
  FrameReader huge;
  huge.feed(hex("80 80 80 80 80 80 80 80 80 01"));
  EXPECT_EQ(huge.next(f), FrameReader::Status::kError);
  EXPECT_NE(huge.error().find("exceeds the limit"), std::string::npos);
}

TEST(AbciFrame, StaysInErrorStateAfterAnError) {
  FrameReader reader(4);
  std::string f;
  reader.feed(hex("05"));
  ASSERT_EQ(reader.next(f), FrameReader::Status::kError);
  reader.feed(hex("01 00"));
  EXPECT_EQ(reader.next(f), FrameReader::Status::kError);
  EXPECT_EQ(reader.buffered(), 0u);
}

TEST(AbciFrame, IncompleteVarintNeedsMore) {
  FrameReader reader;
  std::string f;
  reader.feed(hex("ff ff"));
  EXPECT_EQ(reader.next(f), FrameReader::Status::kNeedMore);
  EXPECT_EQ(reader.buffered(), 2u);
}

}  // namespace
}  // namespace node::abci
