// dapi's Prometheus text (src/api/server/metrics.h): histograms of the request path's latencies.
#include "api/server/metrics.h"

#include <gtest/gtest.h>

namespace api::server {
namespace {

TEST(Metrics, HistogramRendersCumulativeBucketsSumAndCount) {
  Metrics m;
  const std::vector<double> bounds{0.1, 1, 10};
  m.histogram_observe("lat_seconds", "Latency", {{"hop", "mlnode"}}, 0.05, bounds);
  m.histogram_observe("lat_seconds", "Latency", {{"hop", "mlnode"}}, 0.5, bounds);
  m.histogram_observe("lat_seconds", "Latency", {{"hop", "mlnode"}}, 1, bounds);  // le is inclusive
  m.histogram_observe("lat_seconds", "Latency", {{"hop", "mlnode"}}, 50, bounds);
  m.histogram_observe("lat_seconds", "Latency", {{"hop", "executor"}}, 2, bounds);
  std::string text = m.render();
  EXPECT_NE(text.find("# TYPE lat_seconds histogram\n"), std::string::npos) << text;
  for (const char* line :
       {"lat_seconds_bucket{hop=\"mlnode\",le=\"0.1\"} 1\n",
        "lat_seconds_bucket{hop=\"mlnode\",le=\"1\"} 3\n", "lat_seconds_bucket{hop=\"mlnode\",le=\"10\"} 3\n",
        "lat_seconds_bucket{hop=\"mlnode\",le=\"+Inf\"} 4\n", "lat_seconds_sum{hop=\"mlnode\"} 51.55\n",
        "lat_seconds_count{hop=\"mlnode\"} 4\n", "lat_seconds_bucket{hop=\"executor\",le=\"1\"} 0\n",
        "lat_seconds_bucket{hop=\"executor\",le=\"10\"} 1\n", "lat_seconds_count{hop=\"executor\"} 1\n"}) {
    EXPECT_NE(text.find(line), std::string::npos) << line << "\n" << text;
  }
  // A name used as a counter is not turned into a histogram.
  m.counter_add("c_total", "C");
  m.histogram_observe("c_total", "C", {}, 1);
  EXPECT_EQ(m.counter_value("c_total"), 1u);
  EXPECT_EQ(m.render().find("c_total_bucket"), std::string::npos);
}

TEST(Metrics, LatencyBucketsAscend) {
  const auto& b = Metrics::latency_buckets();
  ASSERT_FALSE(b.empty());
  for (size_t i = 1; i < b.size(); ++i) EXPECT_LT(b[i - 1], b[i]);
}

}  // namespace
}  // namespace api::server
