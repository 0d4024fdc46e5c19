// The dapi process (issue 11): wires configuration, state store, keys, chain client, the durable tx queue,
// joining, the node registry, the chain follower and the servers. `run()` blocks until stop()
// (SIGTERM/SIGINT).
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>

#include "api/config/config.h"

namespace api::app {

class Dapi {
 public:
  explicit Dapi(config::Config config);
  ~Dapi();
  // Starts everything, waits for stop(), then stops everything. Returns the process exit code; start-up
  // failures (bad keys, config nodes with unknown models, state store locked) return 1 after logging why.
  int run();
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

struct InitResult {
  std::string address;
  std::string config_file;
  std::string validator_public_key_base64;
};
// `dapi init`: writes <home>/config.yaml (0600: it holds the admin token), creates the account key in the
// keyring unless it exists and the validator key unless it exists. Throws std::runtime_error with a clear
// message.
InitResult init_home(const std::string& home, const config::InitOptions& options, bool overwrite);

}  // namespace api::app
