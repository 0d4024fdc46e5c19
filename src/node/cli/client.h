// What CLI commands share: talking to a node's RPC, signing with the home keyring, broadcasting and
// waiting for inclusion, and printing results.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "chain/types/coins.h"
#include "common/result.h"
#include "common/tx/tx_codec.h"
#include "inference/gov.pb.h"

namespace node::cli {

// Options every command that talks to a node accepts.
struct ClientOptions {
  std::string home;
  std::string node = "http://127.0.0.1:1317";
  int timeout_s = 30;
};
void add_client_options(CLI::App* cmd, ClientOptions& opts);

// Options of every `tx` command.
struct TxOptions : ClientOptions {
  std::string from;
  std::string memo;
  bool no_wait = false;
  bool generate_only = false;
  int64_t sequence = -1;  // -1: ask the node
};
void add_tx_options(CLI::App* cmd, TxOptions& opts);

std::string default_home();
// The address prefix of the chain in `home` (from its genesis), "gonka" when there is none.
std::string address_prefix(const std::string& home);

class NodeClient {
 public:
  explicit NodeClient(const ClientOptions& opts) : base_(opts.node), timeout_(std::chrono::seconds(opts.timeout_s)) {}
  // GET base+path; returns the JSON body of a 2xx answer, else an error with the node's message.
  common::Result<nlohmann::json> get(const std::string& path) const;
  common::Result<nlohmann::json> post(const std::string& path, const nlohmann::json& body) const;

 private:
  std::string base_;
  std::chrono::milliseconds timeout_;
};

// Signs `messages` with the key named by opts.from, broadcasts, waits for inclusion unless --no-wait,
// prints the result as JSON on stdout and returns the process exit code (0 only when the tx succeeded).
int sign_and_broadcast(const TxOptions& opts, const std::vector<common::tx::TxMessage>& messages);

// The bech32 address of a keyring key name (or the address itself if it already is one).
std::string resolve_address(const std::string& home, const std::string& name_or_address);

void print_json(const nlohmann::json& j);
// GETs `path` from the node and prints the JSON answer; throws with the node's message on failure.
void get_and_print(const ClientOptions& opts, const std::string& path);
// Parses "10000nicoin,5foo" into coins; the error names `flag`.
std::vector<chain::types::Coin> parse_coin_list(const std::string& text, const std::string& flag);
// Adds --deposit coins ("10000nicoin") to a proposal.
void add_deposit(inference::gov::MsgSubmitProposal& msg, const std::string& text);
}  // namespace node::cli
