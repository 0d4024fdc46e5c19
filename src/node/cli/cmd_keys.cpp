// inferenced keys add|list|show|export|import
#include <iostream>

#include "common/bytes.h"
#include "node/cli/client.h"
#include "node/cli/commands.h"
#include "node/home.h"
#include "node/keyring.h"

namespace node::cli {

namespace {
nlohmann::json key_json(const KeyInfo& k) {
  return {{"name", k.name}, {"address", k.address}, {"public_key", common::to_base64(k.public_key)}};
}
Keyring open_keyring(const std::string& home) { return Keyring(Home{home}.keyring_file(), address_prefix(home)); }
}  // namespace

void register_keys(CommandTree& tree) {
  auto* keys = tree.root->add_subcommand("keys", "manage account keys in the home keyring");
  keys->require_subcommand(1);
  auto home = std::make_shared<std::string>(default_home());
  auto name = std::make_shared<std::string>();
  auto address_only = std::make_shared<bool>(false);
  auto unsafe = std::make_shared<bool>(false);

  auto* add = keys->add_subcommand("add", "create a new key");
  add->add_option("name", *name, "key name")->required();
  add->add_option("--home", *home, "home directory")->default_val(default_home());
  add->callback([=] { print_json(key_json(open_keyring(*home).add(*name))); });

  auto* list = keys->add_subcommand("list", "list keys (names, addresses, public keys)");
  list->add_option("--home", *home, "home directory")->default_val(default_home());
  list->callback([=] {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& k : open_keyring(*home).list()) out.push_back(key_json(k));
    print_json(out);
  });

  auto* show = keys->add_subcommand("show", "show one key");
  show->add_option("name", *name, "key name or address")->required();
  show->add_option("--home", *home, "home directory")->default_val(default_home());
  show->add_flag("-a,--address", *address_only, "print only the address");
  show->callback([=] {
    auto k = open_keyring(*home).find(*name);
    if (!k) throw std::runtime_error("key \"" + *name + "\" not found");
    if (*address_only) {
      std::cout << k->address << std::endl;
    } else {
      print_json(key_json(*k));
    }
  });

  auto* exp = keys->add_subcommand("export", "print a private key (hex); requires --unsafe");
  exp->add_option("name", *name, "key name")->required();
  exp->add_option("--home", *home, "home directory")->default_val(default_home());
  exp->add_flag("--unsafe", *unsafe, "confirm that the private key may be shown");
  exp->callback([=] {
    if (!*unsafe) throw std::runtime_error("refusing to print a private key without --unsafe");
    std::cerr << "WARNING: anyone who sees this key controls the account's funds.\n";
    std::cout << common::to_hex(open_keyring(*home).private_key(*name).bytes) << std::endl;
  });

  auto* imp = keys->add_subcommand("import", "import a private key (hex) read from standard input");
  imp->add_option("name", *name, "key name")->required();
  imp->add_option("--home", *home, "home directory")->default_val(default_home());
  imp->callback([=] {
    std::string hex;
    std::getline(std::cin, hex);
    while (!hex.empty() && (hex.back() == '\n' || hex.back() == '\r' || hex.back() == ' ')) hex.pop_back();
    auto raw = common::from_hex(hex);
    auto key = raw ? common::secp256k1::private_key_from_bytes(*raw) : std::nullopt;
    if (!key) throw std::runtime_error("standard input must hold a 64-hex-character secp256k1 private key");
    print_json(key_json(open_keyring(*home).import(*name, *key)));
  });
}

}  // namespace node::cli
