// Pure decisions of the request path's outbound hops (src/api/inference/hop_policy.h, node_health.h).
#include <gtest/gtest.h>

#include "api/inference/hop_policy.h"
#include "api/inference/node_health.h"

namespace api::inference {
namespace {

using std::chrono::milliseconds;
using Stage = net::ClientError::Stage;

TEST(HopPolicy, StreamsAreBoundedPerStageAndWholeAnswersAsAWhole) {
  HopTimeouts hop{milliseconds(1000), milliseconds(20000), milliseconds(5000), milliseconds(90000)};
  auto s = call_timeouts(hop, true);
  EXPECT_EQ(s.connect, milliseconds(1000));
  EXPECT_EQ(s.first_byte, milliseconds(20000));
  EXPECT_EQ(s.idle, milliseconds(5000));
  EXPECT_EQ(s.total, milliseconds(0));  // a long stream that keeps coming is fine
  auto w = call_timeouts(hop, false);
  EXPECT_EQ(w.connect, milliseconds(1000));
  EXPECT_EQ(w.first_byte, milliseconds(90000));  // the headers come with the finished answer
  EXPECT_EQ(w.total, milliseconds(90000));
}

TEST(HopPolicy, ValidationNamesTheField) {
  EXPECT_EQ(validate_hop_timeouts(HopTimeouts{}, "inference.executor_hop"), "");
  HopTimeouts zero;
  zero.idle = milliseconds(0);
  EXPECT_NE(validate_hop_timeouts(zero, "h").find("h.idle_timeout_ms"), std::string::npos);
  HopTimeouts slow_connect;
  slow_connect.connect = milliseconds(70000);
  EXPECT_NE(validate_hop_timeouts(slow_connect, "h").find("h.connect_timeout_ms"), std::string::npos);
  HopTimeouts late_first;
  late_first.first_byte = milliseconds(400000);
  EXPECT_NE(validate_hop_timeouts(late_first, "h").find("h.first_byte_timeout_ms"), std::string::npos);
}

TEST(HopPolicy, FailoverOnlyWhenTheExecutorCannotHaveStarted) {
  auto e = [](Stage stage, bool timed_out, bool cancelled = false, bool refused = false) {
    net::ClientError x;
    x.stage = stage;
    x.timed_out = timed_out;
    x.cancelled = cancelled;
    x.refused_address = refused;
    return x;
  };
  EXPECT_TRUE(may_fail_over(e(Stage::kConnect, false)));               // refused, unresolvable
  EXPECT_TRUE(may_fail_over(e(Stage::kConnect, true)));                // connect timeout: nothing sent
  EXPECT_TRUE(may_fail_over(e(Stage::kConnect, false, false, true)));  // address not allowed
  EXPECT_TRUE(may_fail_over(e(Stage::kFirstByte, false)));             // reset before any answer
  EXPECT_FALSE(may_fail_over(e(Stage::kFirstByte, true)));             // may be generating: 504
  EXPECT_FALSE(may_fail_over(e(Stage::kBody, false)));
  EXPECT_FALSE(may_fail_over(e(Stage::kConnect, false, true)));  // our client left
}

TEST(HopPolicy, ABusyExecutorIsFailedOverLikeOneThatCannotRunIt) {
  EXPECT_TRUE(
      may_fail_over_status(429));  // every MLNode of the executor at max_concurrent: refused before work
  EXPECT_TRUE(may_fail_over_status(500));
  EXPECT_TRUE(may_fail_over_status(502));
  EXPECT_TRUE(may_fail_over_status(503));  // no node serving the model there
  EXPECT_TRUE(may_fail_over_status(504));
  EXPECT_TRUE(may_fail_over_status(302));  // redirects are not followed
  // Relayed as they are: the answer, and refusals that another executor would give too.
  for (int status : {200, 400, 401, 402, 403, 404, 409, 413, 428, 430}) {
    EXPECT_FALSE(may_fail_over_status(status)) << status;
  }
  // Every executor tried was busy: the client may retry later (429); any other mix is a failure (502).
  EXPECT_EQ(exhausted_failover_status(true), 429);
  EXPECT_EQ(exhausted_failover_status(false), 502);
}

TEST(NodeHealth, OnlyANodeSeenServingTheModelHealthyIsChosen) {
  NodeHealth ok{"INFERENCE", "INFERENCE", "m", true, ""};
  EXPECT_EQ(serving_refusal(ok, "m"), "");
  EXPECT_NE(serving_refusal(std::nullopt, "m"), "");  // not observed yet
  NodeHealth failed = ok;
  failed.status = "FAILED";
  failed.failure_reason = "connect refused";
  EXPECT_NE(serving_refusal(failed, "m").find("connect refused"), std::string::npos);
  NodeHealth mining{"POC", "POW", "", false, ""};
  EXPECT_NE(serving_refusal(mining, "m"), "");
  NodeHealth other = ok;
  other.model = "n";
  EXPECT_NE(serving_refusal(other, "m").find("serves n"), std::string::npos);
  NodeHealth loading = ok;
  loading.healthy = false;
  EXPECT_NE(serving_refusal(loading, "m"), "");
  NodeHealth unknown{"UNKNOWN", "UNKNOWN", "", false, ""};
  EXPECT_NE(serving_refusal(unknown, "m"), "");
}

}  // namespace
}  // namespace api::inference
