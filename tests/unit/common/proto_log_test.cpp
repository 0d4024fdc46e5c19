#include "common/proto_log.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <sstream>

#include "inference/inference.pb.h"

namespace {

// A string field holding invalid UTF-8: protobuf refuses the message and logs one ERROR line per parse.
std::string invalid_utf8_message() {
  inference::inference::MsgValidateInference m;
  m.set_inference_id("x");
  std::string wire = m.SerializeAsString();
  const auto at = wire.find('x');
  wire[at] = static_cast<char>(0xff);
  return wire;
}

TEST(ProtoLog, RepeatedParseErrorsAreWrittenOncePerWindow) {
  std::ostringstream out;
  auto logger =
      std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::ostream_sink_mt>(out));
  spdlog::set_default_logger(logger);
  common::route_protobuf_logs(3600);
  const auto before = common::protobuf_log_counts();

  const std::string wire = invalid_utf8_message();
  for (int i = 0; i < 1000; ++i) {
    inference::inference::MsgValidateInference parsed;
    EXPECT_FALSE(parsed.ParseFromString(wire));
  }

  const auto after = common::protobuf_log_counts();
  EXPECT_EQ(after.seen - before.seen, 1000u);
  EXPECT_LE(after.written - before.written, 1u);
  const std::string text = out.str();
  EXPECT_NE(text.find("invalid UTF-8"), std::string::npos) << text;
  EXPECT_EQ(text.find("invalid UTF-8", text.find("invalid UTF-8") + 1), std::string::npos) << text;
}

}  // namespace
