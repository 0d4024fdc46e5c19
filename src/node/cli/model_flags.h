// Flags that describe a governance Model, shared by `tx gov submit-proposal register-model` and
// `tx inference register-model`.
#pragma once

#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "chain/x/models/models.h"

namespace node::cli {

struct ModelFlags {
  std::string file;  // a Model JSON (docs/governance.md); flags override its fields
  std::string id, quantization, hf_repo, hf_commit, model_args, validation_threshold, proposed_by;
  uint64_t units_of_compute_per_token = 0, context_window = 0, v_ram = 0, throughput_per_nonce = 0;
  CLI::App* cmd = nullptr;
};

// Adds MODEL_ID (positional, optional with --model-file) and one flag per Model field.
void add_model_flags(CLI::App* cmd, ModelFlags& flags);
// Builds the model from the file and the given flags; proposed_by defaults to `default_proposer`.
chain::x::models::Model build_model(const ModelFlags& flags, const std::string& default_proposer);

// An existing subcommand of `parent` with this name, or a new one.
CLI::App* subgroup(CLI::App* parent, const std::string& name, const std::string& description);

}  // namespace node::cli
