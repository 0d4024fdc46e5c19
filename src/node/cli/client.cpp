#include "node/cli/client.h"

#include "node/cli/numbers.h"

#include <cstdlib>
#include <iostream>
#include <thread>

#include "chain/types/address.h"
#include "common/bytes.h"
#include "common/file_util.h"
#include "net/http.h"
#include "node/home.h"
#include "node/keyring.h"

namespace node::cli {

using nlohmann::json;

void add_client_options(CLI::App* cmd, ClientOptions& opts) {
  cmd->add_option("--home", opts.home, "node home directory")->default_val(default_home());
  cmd->add_option("--node", opts.node, "RPC address of the node")->default_val(opts.node);
  cmd->add_option("--timeout", opts.timeout_s, "seconds to wait for answers and inclusion")->default_val(30);
}

void add_tx_options(CLI::App* cmd, TxOptions& opts) {
  add_client_options(cmd, opts);
  cmd->add_option("--from", opts.from, "key name or address that signs (overrides a positional FROM)");
  cmd->add_option("--memo", opts.memo, "memo stored with the tx");
  cmd->add_flag("--no-wait", opts.no_wait, "return after CheckTx instead of waiting for the block");
  cmd->add_flag("--generate-only", opts.generate_only,
                "print the signed tx (base64) instead of broadcasting it");
  cmd->add_option("--sequence", opts.sequence, "account sequence to sign with (default: ask the node)");
}

std::string default_home() {
  const char* h = std::getenv("HOME");
  return std::string(h ? h : ".") + "/.inferenced";
}

std::string address_prefix(const std::string& home) {
  auto text = common::read_file(Home{home}.genesis_file());
  if (!text) return "gonka";
  auto j = json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return "gonka";
  return j.value("address_prefix", std::string("gonka"));
}

namespace {
common::Result<json> decode_answer(const net::ClientResult& r, const std::string& what) {
  if (!r.ok()) return common::make_error(1, "cannot reach the node (" + what + "): " + r.error->message);
  json body = json::parse(r.response->body, nullptr, false);
  if (r.response->status / 100 != 2) {
    std::string msg = body.is_object() && body.contains("error")
                          ? body["error"].value("message", r.response->body)
                          : r.response->body;
    return common::make_error(static_cast<uint32_t>(r.response->status), msg);
  }
  if (body.is_discarded()) return common::make_error(1, "the node answered " + what + " with invalid JSON");
  return body;
}
}  // namespace

common::Result<json> NodeClient::get(const std::string& path) const {
  return decode_answer(net::Client::get(base_ + path, timeout_), "GET " + path);
}

common::Result<json> NodeClient::post(const std::string& path, const json& body) const {
  return decode_answer(net::Client::post_json(base_ + path, body.dump(), timeout_), "POST " + path);
}

std::string resolve_address(const std::string& home, const std::string& name_or_address) {
  std::string hrp = address_prefix(home);
  if (chain::types::parse_address(hrp, name_or_address)) return name_or_address;
  Keyring keyring(Home{home}.keyring_file(), hrp);
  auto key = keyring.find(name_or_address);
  if (!key) {
    throw std::runtime_error("\"" + name_or_address + "\" is neither a " + hrp +
                             "1... address nor a key in " + Home{home}.keyring_file());
  }
  return key->address;
}

void print_json(const json& j) {
  std::cout << j.dump(2) << std::endl;
}

void get_and_print(const ClientOptions& opts, const std::string& path) {
  auto r = NodeClient(opts).get(path);
  if (!r) throw std::runtime_error(r.error().message);
  print_json(*r);
}

void add_deposit(inference::gov::MsgSubmitProposal& msg, const std::string& text) {
  for (const auto& coin : parse_coin_list(text, "--deposit")) {
    auto* c = msg.add_deposit();
    c->set_denom(coin.denom);
    c->set_amount(std::to_string(coin.amount));
  }
}

std::vector<chain::types::Coin> parse_coin_list(const std::string& text, const std::string& flag) {
  std::vector<chain::types::Coin> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    auto coin = chain::types::parse_coin(text.substr(start, end - start));
    if (!coin) throw std::runtime_error(flag + ": " + coin.error().message);
    out.push_back(*coin);
    start = end + 1;
  }
  return out;
}

int sign_and_broadcast(const TxOptions& opts, const std::vector<common::tx::TxMessage>& messages) {
  NodeClient client(opts);
  std::string hrp = address_prefix(opts.home);
  Keyring keyring(Home{opts.home}.keyring_file(), hrp);
  auto key = keyring.private_key(opts.from);
  std::string address = keyring.find(opts.from)->address;

  auto status = client.get("/status");
  if (!status) throw std::runtime_error(status.error().message);
  std::string chain_id = (*status)["chain_id"];
  uint64_t sequence = 0;
  if (opts.sequence >= 0) {
    sequence = static_cast<uint64_t>(opts.sequence);
  } else {
    auto account = client.get("/auth/accounts/" + address);
    if (!account) {
      throw std::runtime_error("account " + address + " is unknown to the node (" + account.error().message +
                               "); it needs funds before it can sign");
    }
    const auto& field = (*account)["sequence"];
    auto parsed = field.is_string() ? parse_u64(field.get<std::string>()) : std::nullopt;
    if (!parsed)
      throw std::runtime_error("the node answered account " + address + " without a valid sequence");
    sequence = *parsed;
  }
  std::string tx = common::tx::build_signed_tx(messages, opts.memo, 0, key, sequence, chain_id);
  if (opts.generate_only) {
    print_json(
        {{"tx", common::to_base64(tx)}, {"txhash", common::tx::tx_hash_hex(tx)}, {"sequence", sequence}});
    return 0;
  }

  auto sent = client.post("/txs", json{{"tx", common::to_base64(tx)}});
  if (!sent) throw std::runtime_error(sent.error().message);
  json result = *sent;
  if (result.value("code", 1u) != 0 || opts.no_wait) {
    print_json(result);
    return result.value("code", 1u) == 0 ? 0 : 1;
  }
  std::string hash = result["txhash"];
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(opts.timeout_s);
  while (std::chrono::steady_clock::now() < deadline) {
    auto found = client.get("/txs/" + hash);
    if (found) {
      print_json(*found);
      return (*found).value("code", 1u) == 0 ? 0 : 1;
    }
    if (found.error().code != 404) throw std::runtime_error(found.error().message);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  throw std::runtime_error("tx " + hash + " accepted into the mempool but not included within " +
                           std::to_string(opts.timeout_s) + " s; check with: inferenced query tx " + hash);
}

}  // namespace node::cli
