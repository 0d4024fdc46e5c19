#include "api/server/admin_server.h"

#include <gtest/gtest.h>

#include "api/server/metrics.h"

namespace api::server {
namespace {

TEST(AdminServer, UnknownModelsMessageListsUnknownAndRegisteredIds) {
  EXPECT_EQ(unknown_models_message("gpu-1", {"a", "b"}, {"b", "a"}), "");
  EXPECT_EQ(unknown_models_message("gpu-1", {"Qwen/X", "a", "Y"}, {"b", "a"}),
            "unknown models \"Qwen/X\", \"Y\" in node \"gpu-1\"; registered models: a, b");
  EXPECT_EQ(unknown_models_message("n", {"x"}, {}),
            "unknown model \"x\" in node \"n\"; registered models: (none)");
}

TEST(Metrics, RendersPrometheusTextWithHelpTypeAndEscapedLabels) {
  Metrics m;
  m.counter_add("dapi_tx_failures_total", "Refused messages", {{"kind", "seed"}});
  m.counter_add("dapi_tx_failures_total", "Refused messages", {{"kind", "seed"}}, 2);
  m.gauge_set("dapi_node_state", "Node state", {{"node", "a\"b"}, {"state", "INFERENCE"}}, 1);
  EXPECT_EQ(m.counter_value("dapi_tx_failures_total", {{"kind", "seed"}}), 3u);
  auto text = m.render();
  EXPECT_NE(
      text.find("# HELP dapi_tx_failures_total Refused messages\n# TYPE dapi_tx_failures_total counter\n"
                "dapi_tx_failures_total{kind=\"seed\"} 3\n"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("dapi_node_state{node=\"a\\\"b\",state=\"INFERENCE\"} 1\n"), std::string::npos) << text;
  m.gauge_clear("dapi_node_state");
  EXPECT_EQ(m.render().find("dapi_node_state{"), std::string::npos);
}

}  // namespace
}  // namespace api::server
