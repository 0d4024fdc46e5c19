// inferenced: the chain node of the inference network and its command line.
#include <iostream>

#include "node/cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"inferenced: chain node of the decentralized inference network"};
  app.require_subcommand(1);
  node::cli::CommandTree tree{&app, app.add_subcommand("tx", "sign and broadcast transactions"),
                              app.add_subcommand("query", "query chain state")};
  tree.tx->require_subcommand(1);
  tree.query->require_subcommand(1);
  node::cli::register_init(tree);
  node::cli::register_start(tree);
  node::cli::register_keys(tree);
  node::cli::register_bank(tree);
  node::cli::register_query(tree);
  node::cli::register_gov(tree);
  node::cli::register_inference(tree);
  node::cli::register_poc(tree);
  node::cli::register_upgrade(tree);
  node::cli::register_inference_accounting(tree);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::cerr << "Error: " << e.what() << std::endl;
    return 1;
  }
  return 0;
}
