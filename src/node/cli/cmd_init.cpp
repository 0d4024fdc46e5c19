// inferenced init / inferenced genesis add-account: create a home with a genesis for a preset.
#include <filesystem>
#include <iostream>

#include "chain/app/app.h"
#include "chain/store/memory_store.h"
#include "chain/types/coins.h"
#include "common/bytes.h"
#include "common/ed25519.h"
#include "common/file_util.h"
#include "common/hash.h"
#include "node/cli/client.h"
#include "node/cli/commands.h"
#include "node/home.h"
#include "node/keyring.h"

namespace node::cli {

using nlohmann::json;

namespace {
struct InitOptions {
  std::string home;
  std::string chain_id = "inference-localnet";
  std::string preset = "localnet";
  std::string funds = "1000000000000000nicoin";
  int64_t power = 100;
  bool overwrite = false;
};

void write_validator_key(const Home& home, const common::ed25519::KeyPair& key) {
  json j{{"type", "ed25519"},
         {"address", common::to_hex(common::sha256(key.public_key).substr(0, 20))},
         {"pub_key", common::to_base64(key.public_key)},
         {"priv_key", common::to_base64(key.private_seed + key.public_key)}};
  common::write_file_atomic(home.validator_key_file(), j.dump(2) + "\n", 0600);
}

void run_init(const InitOptions& o) {
  Home home{o.home};
  if (std::filesystem::exists(home.genesis_file()) && !o.overwrite) {
    throw std::runtime_error(home.genesis_file() + " already exists; use another --home or pass --overwrite");
  }
  if (o.overwrite) std::filesystem::remove_all(home.root + "/data");
  std::filesystem::create_directories(home.config_dir());
  std::filesystem::create_directories(home.root + "/data");
  auto funds = chain::types::parse_coin(o.funds);
  if (!funds) throw std::runtime_error(funds.error().message);

  chain::app::Genesis g;
  g.chain_id = o.chain_id;
  g.genesis_time_unix_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
  Keyring keyring(home.keyring_file(), g.address_prefix);
  auto validator = keyring.find("validator");
  if (!validator) validator = keyring.add("validator");
  auto consensus_key = common::ed25519::generate();
  write_validator_key(home, consensus_key);
  g.validators.push_back({"validator", validator->address, consensus_key.public_key, o.power});

  chain::store::MemoryStore scratch;
  chain::app::App app(scratch);
  g.app_state = app.default_app_state(o.preset);
  g.app_state["bank"]["balances"] = json::array(
      {{{"address", validator->address}, {"coins", {{{"denom", funds->denom}, {"amount", std::to_string(funds->amount)}}}}}});
  if (auto check = chain::app::App(scratch).init_chain(g); !check) {
    throw std::runtime_error("the generated genesis is invalid: " + check.error().message);
  }
  common::write_file_atomic(home.genesis_file(), g.to_json().dump(2) + "\n");
  std::cout << "initialized " << home.root << " for chain " << g.chain_id << " (preset " << o.preset << ")\n"
            << "  genesis:   " << home.genesis_file() << "\n"
            << "  validator: " << validator->address << " (key \"validator\" in " << home.keyring_file() << ")\n"
            << "start it with: inferenced start --home " << home.root << std::endl;
}

void run_add_account(const std::string& home, const std::string& who, const std::string& amount) {
  Home h{home};
  auto text = common::read_file(h.genesis_file());
  if (!text) throw std::runtime_error("no genesis at " + h.genesis_file() + "; run inferenced init first");
  json g = json::parse(*text);
  std::string address = resolve_address(home, who);
  auto coin = chain::types::parse_coin(amount);
  if (!coin) throw std::runtime_error(coin.error().message);
  auto& balances = g["app_state"]["bank"]["balances"];
  for (const auto& b : balances) {
    if (b.value("address", "") == address) throw std::runtime_error(address + " already has a genesis balance");
  }
  balances.push_back({{"address", address},
                      {"coins", {{{"denom", coin->denom}, {"amount", std::to_string(coin->amount)}}}}});
  common::write_file_atomic(h.genesis_file(), g.dump(2) + "\n");
  std::cout << "added " << amount << " for " << address << " to " << h.genesis_file() << std::endl;
}
}  // namespace

void register_init(CommandTree& tree) {
  auto opts = std::make_shared<InitOptions>();
  auto* init = tree.root->add_subcommand("init", "create a node home with keys and a genesis");
  init->add_option("--home", opts->home, "home directory")->default_val(default_home());
  init->add_option("--chain-id", opts->chain_id, "chain id")->default_val(opts->chain_id);
  init->add_option("--preset", opts->preset, "genesis preset")
      ->check(CLI::IsMember({"localnet", "testnet", "mainnet"}))
      ->default_val(opts->preset);
  init->add_option("--validator-funds", opts->funds, "initial balance of the validator key")->default_val(opts->funds);
  init->add_option("--validator-power", opts->power, "consensus power of the genesis validator")->default_val(100);
  init->add_flag("--overwrite", opts->overwrite, "replace an existing genesis and delete the chain data");
  init->callback([opts] { run_init(*opts); });

  auto* genesis = tree.root->add_subcommand("genesis", "edit the genesis file before the first start");
  genesis->require_subcommand(1);
  auto* add = genesis->add_subcommand("add-account", "give an address (or key name) a genesis balance");
  auto home = std::make_shared<std::string>();
  auto who = std::make_shared<std::string>();
  auto amount = std::make_shared<std::string>();
  add->add_option("address", *who, "bech32 address or key name")->required();
  add->add_option("amount", *amount, "e.g. 1000000nicoin")->required();
  add->add_option("--home", *home, "home directory")->default_val(default_home());
  add->callback([home, who, amount] { run_add_account(*home, *who, *amount); });
}

}  // namespace node::cli
