// Layout of a node's home directory (--home):
//   config/genesis.json          chain id, validators, app state
//   config/validator_key.json    ed25519 consensus key of this node (0600)
//   keyring/keys.json            account keys (0600)
//   data/state/                  RocksDB: app state, commit metadata, blocks and tx index
#pragma once

#include <string>

namespace node {

struct Home {
  std::string root;
  std::string config_dir() const { return root + "/config"; }
  std::string genesis_file() const { return config_dir() + "/genesis.json"; }
  std::string validator_key_file() const { return config_dir() + "/validator_key.json"; }
  std::string keyring_file() const { return root + "/keyring/keys.json"; }
  std::string state_dir() const { return root + "/data/state"; }
};

}  // namespace node
