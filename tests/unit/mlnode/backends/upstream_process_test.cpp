#include "mlnode/backends/upstream_process.h"

#include <gtest/gtest.h>

#include <thread>

namespace mlnode::backends {
namespace {

TEST(ShellQuote, QuotesSingleQuotesSafely) {
  EXPECT_EQ(shell_quote("plain"), "'plain'");
  EXPECT_EQ(shell_quote("it's; rm -rf /"), "'it'\\''s; rm -rf /'");
}

TEST(UpstreamProcess, ReportsExitOfTheLaunchedCommand) {
  UpstreamProcess p;
  ASSERT_TRUE(p.start("sh -c 'exit 3' --", "m", {}).ok());
  std::optional<std::string> status;
  for (int i = 0; i < 200 && !status; ++i) {
    status = p.exited();
    if (!status) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(*status, "exited with code 3");
}

TEST(UpstreamProcess, StopTerminatesALongRunningCommand) {
  UpstreamProcess p;
  ASSERT_TRUE(p.start("sleep 30 #", "m", {"--x"}).ok());
  EXPECT_FALSE(p.exited().has_value());
  const auto start = std::chrono::steady_clock::now();
  p.stop(std::chrono::seconds(5));
  EXPECT_FALSE(p.running());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

}  // namespace
}  // namespace mlnode::backends
