// inferenced start: open the state, serve the RPC and produce blocks (solo mode), or serve CometBFT over ABCI
// (--abci ADDR), which then decides the blocks.
#include <signal.h>

#include <filesystem>
#include <iostream>

#include "chain/store/rocksdb_store.h"
#include "common/file_util.h"
#include "common/log.h"
#include "common/proto_log.h"
#include "node/abci/comet_node.h"
#include "node/chain_node.h"
#include "node/cli/client.h"
#include "node/cli/commands.h"
#include "node/cli/numbers.h"
#include "node/home.h"
#include "node/rpc/rpc_server.h"
#include "node/solo/producer.h"

namespace node::cli {

namespace {
struct StartOptions {
  std::string home;
  std::string rpc_addr = "127.0.0.1:1317";
  int block_time_ms = 1000;
  std::string abci;  // CometBFT mode when set: ABCI listen address
  std::string comet_rpc = "http://127.0.0.1:26657";
  std::string log_level = "info";
  uint64_t query_history_blocks = 100;
  ChainNodeOptions chain;
  unsigned max_event_subscribers = 32;
};

std::pair<std::string, uint16_t> split_host_port(const std::string& addr) {
  auto colon = addr.rfind(':');
  if (colon == std::string::npos)
    throw std::runtime_error("--rpc-addr must be HOST:PORT, got \"" + addr + "\"");
  auto port = parse_u64(addr.substr(colon + 1));
  if (!port || *port > 65535)
    throw std::runtime_error("--rpc-addr: the port in \"" + addr + "\" must be 0 to 65535");
  return {addr.substr(0, colon), static_cast<uint16_t>(*port)};
}

chain::app::Genesis load_genesis(const Home& home) {
  auto text = common::read_file(home.genesis_file());
  if (!text)
    throw std::runtime_error("no genesis at " + home.genesis_file() + "; run: inferenced init --home " +
                             home.root);
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded()) throw std::runtime_error(home.genesis_file() + " is not valid JSON");
  auto g = chain::app::Genesis::from_json(j);
  if (!g) throw std::runtime_error(home.genesis_file() + ": " + g.error().message);
  return *g;
}

// Blocks SIGINT/SIGTERM in every thread so the main thread can wait for them with sigtimedwait.
sigset_t block_stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

void run_start(const StartOptions& o) {
  sigset_t stop_signals = block_stop_signals();
  common::init_logging("inferenced", o.log_level);
  common::route_protobuf_logs();
  if (o.block_time_ms < 10) throw std::runtime_error("--block-time-ms must be at least 10");
  Home home{o.home};
  auto genesis = load_genesis(home);
  std::filesystem::create_directories(home.state_dir());
  ChainNode chain(std::make_unique<chain::store::RocksDbStore>(home.state_dir(), o.query_history_blocks),
                  genesis, o.chain);
  spdlog::info("chain {} at height {}", genesis.chain_id, chain.height());

  auto [host, port] = split_host_port(o.rpc_addr);
  std::unique_ptr<abci::CometNode> comet;
  if (!o.abci.empty()) {
    comet = std::make_unique<abci::CometNode>(chain, abci::CometOptions{o.abci, o.comet_rpc});
    comet->start();
  }
  rpc::SubmitFn submit = [&chain](const std::string& tx) { return chain.submit_tx(tx); };
  if (comet) submit = [&comet](const std::string& tx) { return comet->submit_tx(tx); };
  rpc::RpcOptions rpc_options;
  rpc_options.address = host;
  rpc_options.port = port;
  rpc_options.mode = comet ? "cometbft" : "solo";
  rpc_options.max_event_subscribers = o.max_event_subscribers;
  rpc::RpcServer rpc(chain, submit, rpc_options);
  rpc.start();
  std::unique_ptr<solo::Producer> producer;
  if (comet) {
    spdlog::info("RPC listening on http://{}:{} (CometBFT mode: ABCI on {}, txs to {})", host, rpc.port(),
                 comet->abci_address(), o.comet_rpc);
  } else {
    producer = std::make_unique<solo::Producer>(chain, std::chrono::milliseconds(o.block_time_ms));
    producer->start();
    spdlog::info("RPC listening on http://{}:{} (solo mode, one block every {} ms)", host, rpc.port(),
                 o.block_time_ms);
  }

  std::string failure;
  timespec tick{0, 200'000'000};
  while (true) {
    int sig = sigtimedwait(&stop_signals, nullptr, &tick);
    if (sig == SIGINT || sig == SIGTERM) {
      spdlog::info("received {}, shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
      break;
    }
    failure = producer ? producer->failure() : comet->failure();
    if (!failure.empty()) break;
  }
  if (producer) producer->stop();
  if (comet) comet->stop();
  chain.shutdown();
  rpc.stop();
  if (!failure.empty() && comet)
    throw std::runtime_error("stopped because the ABCI connection failed: " + failure);
  if (!failure.empty()) throw std::runtime_error("stopped because block production failed: " + failure);
  spdlog::info("stopped cleanly at height {}", chain.height());
}
}  // namespace

void register_start(CommandTree& tree) {
  auto opts = std::make_shared<StartOptions>();
  auto* start =
      tree.root->add_subcommand("start", "run the node: RPC plus the embedded single-validator producer");
  start->add_option("--home", opts->home, "home directory")->default_val(default_home());
  start->add_option("--rpc-addr", opts->rpc_addr, "HOST:PORT of the HTTP RPC")->default_val(opts->rpc_addr);
  start->add_option("--block-time-ms", opts->block_time_ms, "solo mode: milliseconds between blocks")
      ->default_val(1000);
  start->add_option(
      "--abci", opts->abci,
      "CometBFT mode: serve ABCI on tcp://HOST:PORT or unix:///PATH (CometBFT's proxy_app) instead of "
      "producing blocks");
  start->add_option("--comet-rpc", opts->comet_rpc, "CometBFT mode: CometBFT's RPC, where POST /txs forwards")
      ->default_val(opts->comet_rpc);
  start->add_option("--log-level", opts->log_level, "trace|debug|info|warn|error")->default_val("info");
  start
      ->add_option(
          "--query-history-blocks", opts->query_history_blocks,
          "queries with ?height=N answer from the state of the last N blocks (kept in memory since the "
          "node started); older heights get 400 naming the heights kept. 0: the latest state only")
      ->default_val(opts->query_history_blocks)
      ->check(CLI::Range(uint64_t{0}, uint64_t{100000}));
  start
      ->add_option("--max-event-subscribers", opts->max_event_subscribers,
                   "GET /events/blocks streams served at once; one more gets 503 with Retry-After")
      ->default_val(opts->max_event_subscribers)
      ->check(CLI::Range(1u, 4096u));
  start
      ->add_option(
          "--block-max-bytes", opts->chain.block_max_bytes,
          "solo mode: at most this many bytes of txs per block (at least the genesis max_tx_bytes; under "
          "CometBFT its consensus param block.max_bytes applies)")
      ->default_val(opts->chain.block_max_bytes)
      ->check(CLI::Range(size_t{1024}, size_t{1} << 30));
  start
      ->add_option("--mempool-max-txs-per-sender", opts->chain.per_sender.max_txs_per_sender,
                   "txs one sender may have waiting for a block; more get code 20 (mempool full)")
      ->default_val(opts->chain.per_sender.max_txs_per_sender)
      ->check(CLI::Range(uint64_t{1}, uint64_t{1000000}));
  start
      ->add_option("--mempool-max-bytes-per-sender", opts->chain.per_sender.max_bytes_per_sender,
                   "bytes of txs one sender may have waiting for a block; more get code 20 (mempool full)")
      ->default_val(opts->chain.per_sender.max_bytes_per_sender)
      ->check(CLI::Range(uint64_t{1024}, uint64_t{1} << 34));
  start->callback([opts] { run_start(*opts); });
}

}  // namespace node::cli
