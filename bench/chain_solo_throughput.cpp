// Solo-mode throughput of signed bank sends (CheckTx into the mempool, then blocks finalized and committed
// to RocksDB, exactly the path `inferenced start` runs minus HTTP) against the bound set by secp256k1
// verification alone on the same machine. Prints both rates and their ratio; asserts nothing.
#include <time.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <vector>

#include "chain/store/rocksdb_store.h"
#include "chain/types/address.h"
#include "chain/x/bank/bank.h"
#include "common/ed25519.h"
#include "common/secp256k1.h"
#include "common/tx/tx_codec.h"
#include "node/chain_node.h"

namespace {
using Clock = std::chrono::steady_clock;
constexpr int kAccounts = 200;
constexpr int kTxsPerAccount = 100;

struct Account {
  common::secp256k1::PrivateKey key;
  std::string address;
};

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// CPU time of this thread: unaffected by other processes competing for the 2 cores (wall time is also shown).
double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}
}  // namespace

int main() {
  const std::string chain_id = "bench";
  std::vector<Account> accounts;
  chain::app::Genesis genesis;
  genesis.chain_id = chain_id;
  genesis.validators.push_back({"v", "", common::ed25519::generate().public_key, 1});
  nlohmann::json balances = nlohmann::json::array();
  for (int i = 0; i < kAccounts; ++i) {
    auto key = common::secp256k1::generate_private_key();
    auto addr = chain::types::to_bech32("gonka", chain::types::address_from_public_key(common::secp256k1::public_key(key)));
    accounts.push_back({key, addr});
    balances.push_back({{"address", addr}, {"coins", {{{"denom", "nicoin"}, {"amount", "1000000000"}}}}});
  }
  genesis.validators[0].operator_address = accounts[0].address;
  genesis.app_state = {{"bank", {{"balances", balances}}}};

  std::vector<std::string> txs;
  std::vector<std::tuple<std::string, std::string, std::string>> verify_inputs;  // pubkey, hash, sig
  for (int seq = 0; seq < kTxsPerAccount; ++seq) {
    for (int i = 0; i < kAccounts; ++i) {
      inference::bank::MsgSend msg;
      msg.set_from_address(accounts[i].address);
      msg.set_to_address(accounts[(i + 1) % kAccounts].address);
      auto* c = msg.add_amount();
      c->set_denom("nicoin");
      c->set_amount("1");
      std::string tx =
          common::tx::build_signed_tx({{std::string(chain::x::bank::kMsgSendUrl), msg.SerializeAsString()}},
                                      "", 0, accounts[i].key, seq, chain_id);
      auto decoded = common::tx::decode_tx(tx);
      verify_inputs.emplace_back(decoded->tx.auth_info().public_key(),
                                 common::tx::sign_hash(chain_id, decoded->tx.body(), seq),
                                 decoded->tx.signature());
      txs.push_back(std::move(tx));
    }
  }
  const double n = static_cast<double>(txs.size());

  auto t0 = Clock::now();
  double c0 = thread_cpu_seconds();
  size_t ok = 0;
  for (const auto& [pub, hash, sig] : verify_inputs) ok += common::secp256k1::verify(pub, hash, sig);
  double verify_rate = n / seconds_since(t0);
  double verify_cpu_rate = n / (thread_cpu_seconds() - c0);
  if (ok != txs.size()) std::fprintf(stderr, "verification failed for %zu txs\n", txs.size() - ok);

  auto dir = std::filesystem::temp_directory_path() / "inference-bench-solo";
  std::filesystem::remove_all(dir);
  node::ChainNode chain(std::make_unique<chain::store::RocksDbStore>(dir.string()), genesis);
  chain.produce_block(1);
  auto t1 = Clock::now();
  double c1 = thread_cpu_seconds();
  size_t accepted = 0, included = 0, failed = 0;
  int64_t time_ms = 2;
  const size_t per_block = 5000;
  for (size_t start = 0; start < txs.size(); start += per_block) {
    for (size_t i = start; i < std::min(txs.size(), start + per_block); ++i) accepted += chain.submit_tx(txs[i]).code == 0;
    auto block = chain.produce_block(time_ms++);
    included += static_cast<size_t>(block.txs_size());
    for (const auto& r : block.tx_results()) failed += r.code() != 0;
  }
  double solo_rate = n / seconds_since(t1);
  double solo_cpu_rate = n / (thread_cpu_seconds() - c1);
  std::filesystem::remove_all(dir);

  std::printf("signed bank sends: %zu (accepted %zu, included %zu, failed %zu)\n", txs.size(), accepted, included, failed);
  std::printf("                            wall tx/s    cpu tx/s\n");
  std::printf("secp256k1 verify only:     %10.0f  %10.0f\n", verify_rate, verify_cpu_rate);
  std::printf("solo mode (check+block):   %10.0f  %10.0f\n", solo_rate, solo_cpu_rate);
  std::printf("ratio solo / verify-only:  %10.2f  %10.2f   (target >= 0.50)\n", solo_rate / verify_rate,
              solo_cpu_rate / verify_cpu_rate);
  return 0;
}
