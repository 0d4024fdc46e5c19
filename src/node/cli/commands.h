// Each file under cli/ registers its commands on the CLI tree. New command groups add a register_* here
// and one call in main.cpp.
#pragma once

#include <CLI/CLI.hpp>

namespace node::cli {

struct CommandTree {
  CLI::App* root;
  CLI::App* tx;     // inferenced tx ...
  CLI::App* query;  // inferenced query ...
};

void register_init(CommandTree& tree);
void register_start(CommandTree& tree);
void register_keys(CommandTree& tree);
void register_bank(CommandTree& tree);
void register_query(CommandTree& tree);
void register_gov(CommandTree& tree);        // cmd_gov.cpp
void register_inference(CommandTree& tree);  // cmd_inference.cpp
void register_poc(CommandTree& tree);        // cmd_poc.cpp
void register_upgrade(CommandTree& tree);    // cmd_upgrade.cpp
void register_inference_accounting(CommandTree& tree);  // cmd_inference_accounting.cpp

}  // namespace node::cli
