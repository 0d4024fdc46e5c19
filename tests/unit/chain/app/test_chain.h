// Test helpers: a funded genesis, signed bank sends and a block driver over any CommitStore.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "chain/app/app.h"
#include "chain/store/memory_store.h"
#include "chain/types/address.h"
#include "chain/x/auth/auth.h"
#include "chain/x/bank/bank.h"
#include "chain/x/gov/gov.h"
#include "common/ed25519.h"
#include "common/secp256k1.h"

namespace chain::test {

inline constexpr const char* kChainId = "test-chain";
inline constexpr const char* kHrp = "gonka";

struct TestAccount {
  common::secp256k1::PrivateKey key;
  types::Address address;
  std::string bech32;
  uint64_t sequence = 0;
};

// An address made of one repeated byte: tests that need a known address order use 'a' < 'b' < ...
inline types::Address byte_address(char c) {
  return types::Address(types::kAddressLength, c);
}

// The bech32 address of the governance authority (x/gov), the signer of every proposal's messages.
inline std::string gov_address() {
  return types::to_bech32(kHrp, x::gov::authority());
}

inline TestAccount make_account(uint8_t seed) {
  std::string bytes(32, '\0');
  bytes[31] = static_cast<char>(seed + 1);
  bytes[0] = 0x11;
  TestAccount a{*common::secp256k1::private_key_from_bytes(bytes), {}, {}, 0};
  a.address = types::address_from_public_key(common::secp256k1::public_key(a.key));
  a.bech32 = types::to_bech32(kHrp, a.address);
  return a;
}

inline app::Genesis make_genesis(const std::vector<TestAccount>& funded, uint64_t amount) {
  app::Genesis g;
  g.chain_id = kChainId;
  g.address_prefix = kHrp;
  g.validators.push_back({"v", funded.empty() ? "" : funded[0].bech32,
                          common::ed25519::from_seed(std::string(32, '\3'))->public_key, 10});
  nlohmann::json balances = nlohmann::json::array();
  for (const auto& a : funded) {
    balances.push_back(
        {{"address", a.bech32}, {"coins", {{{"denom", "nicoin"}, {"amount", std::to_string(amount)}}}}});
  }
  g.app_state = {{"bank", {{"balances", balances}}}};
  return g;
}

inline std::string send_tx(TestAccount& from, const TestAccount& to, uint64_t amount,
                           const std::string& chain_id = kChainId) {
  inference::bank::MsgSend msg;
  msg.set_from_address(from.bech32);
  msg.set_to_address(to.bech32);
  auto* c = msg.add_amount();
  c->set_denom("nicoin");
  c->set_amount(std::to_string(amount));
  return common::tx::build_signed_tx({{std::string(x::bank::kMsgSendUrl), msg.SerializeAsString()}}, "", 0,
                                     from.key, from.sequence++, chain_id);
}

inline app::BlockInfo block_at(uint64_t height) {
  return app::BlockInfo{kChainId, height, int64_t(1700000000000) + int64_t(height) * 1000,
                        std::string(32, '\x42'), ""};
}

// Adds a genesis validator operated by `operator_account` (its power is its genesis voting weight).
inline void add_validator(app::Genesis& g, const TestAccount& operator_account, int64_t power) {
  std::string seed(32, '\0');
  seed[0] = static_cast<char>(g.validators.size() + 7);
  g.validators.push_back({"v" + std::to_string(g.validators.size()), operator_account.bech32,
                          common::ed25519::from_seed(seed)->public_key, power});
}

template <typename Msg>
common::tx::TxMessage tx_message(std::string_view type_url, const Msg& msg) {
  return {std::string(type_url), msg.SerializeAsString()};
}

// Signs `messages` with the account's next sequence.
inline std::string sign_tx(TestAccount& from, const std::vector<common::tx::TxMessage>& messages,
                           const std::string& chain_id = kChainId) {
  return common::tx::build_signed_tx(messages, "", 0, from.key, from.sequence++, chain_id);
}

// An App over a memory store that produces one committed block per call.
class TestChain {
 public:
  explicit TestChain(const app::Genesis& genesis) {
    auto r = app.init_chain(genesis);
    if (!r) throw std::runtime_error("init_chain: " + r.error().message);
  }
  app::FinalizeResult block(const std::vector<std::string>& txs = {}) {
    auto r = app.finalize_block(block_at(app.info().height + 1), txs);
    app.commit();
    return r;
  }
  // Runs one tx in its own block and returns its outcome.
  app::TxOutcome deliver(const std::string& tx) { return block({tx}).tx_results.at(0); }
  uint64_t height() const { return app.info().height; }
  // Re-reads the account's next sequence from committed state (a tx that fails its stateless checks does not
  // consume one).
  void sync(TestAccount& a) const {
    auto account = x::auth::get_account(store, a.address);
    a.sequence = account ? account->sequence() : 0;
  }
  const store::KvReader& state() const { return store; }
  // Values of `key` in events of `type`, in order.
  static std::vector<std::string> event_values(const std::vector<types::Event>& events,
                                               const std::string& type, const std::string& key) {
    std::vector<std::string> out;
    for (const auto& e : events) {
      if (e.type != type) continue;
      for (const auto& [k, v] : e.attributes) {
        if (k == key) out.push_back(v);
      }
    }
    return out;
  }

  store::MemoryStore store;
  app::App app{store};
};

}  // namespace chain::test
