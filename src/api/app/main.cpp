// dapi: the participant's API node (issue 11). `dapi init` writes a home; `dapi start` runs the controller.
#include <csignal>
#include <iostream>
#include <thread>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "api/app/dapi.h"
#include "common/log.h"
#include "common/proto_log.h"

int main(int argc, char** argv) {
  CLI::App app{"dapi: API node of the decentralized inference network (participant controller)"};
  app.require_subcommand(1);

  std::string home;
  api::config::InitOptions init;
  bool overwrite = false;
  auto* init_cmd =
      app.add_subcommand("init", "write <home>/config.yaml and create the account and validator keys");
  init_cmd->add_option("--home", home, "dapi home directory")->required();
  init_cmd
      ->add_option("--chain-node", init.chain_node_url,
                   "inferenced RPC URL (its --rpc-addr, not CometBFT's RPC), e.g. http://127.0.0.1:1317")
      ->required();
  init_cmd->add_option("--key", init.key_name, "account key name (created in the home's keyring if missing)")
      ->required();
  init_cmd->add_option("--public-url", init.public_url, "URL other participants reach this dapi at")
      ->required();
  init_cmd->add_option("--address-prefix", init.address_prefix, "bech32 prefix of the chain's addresses")
      ->default_val("gonka");
  init_cmd->add_flag("--overwrite", overwrite, "replace an existing config.yaml (keys are kept)");

  std::string start_home;
  auto* start_cmd = app.add_subcommand("start", "run the API node");
  start_cmd->add_option("--home", start_home, "dapi home directory")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  if (*init_cmd) {
    try {
      auto r = api::app::init_home(home, init, overwrite);
      std::cout << nlohmann::json{{"address", r.address},
                                  {"config", r.config_file},
                                  {"validator_public_key", r.validator_public_key_base64}}
                       .dump()
                << std::endl;
      return 0;
    } catch (const std::exception& e) {
      std::cerr << "Error: " << e.what() << std::endl;
      return 1;
    }
  }

  auto cfg = api::config::load(start_home);
  if (!cfg) {
    std::cerr << "Error: " << cfg.error().message << std::endl;
    return 1;
  }
  common::init_logging("dapi", cfg->log_level);
  common::route_protobuf_logs();

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // every thread inherits the mask; one waits below

  api::app::Dapi dapi(std::move(*cfg));
  std::thread waiter([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    dapi.stop();
  });
  int code = dapi.run();
  if (waiter.joinable()) {
    pthread_kill(waiter.native_handle(), SIGTERM);  // unblocks sigwait if run() ended on its own
    waiter.join();
  }
  return code;
}
