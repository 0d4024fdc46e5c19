#include "api/app/dapi.h"

#include <openssl/rand.h>

#include <filesystem>
#include <optional>
#include <stdexcept>
#include <thread>

#include <nlohmann/json.hpp>

#include "api/app/controller.h"
#include "api/app/joining.h"
#include "api/app/tx_queue.h"
#include "api/chain/block_follower.h"
#include "api/chain/chain_client.h"
#include "api/chain/tx_sender.h"
#include "api/inference/openai_error.h"
#include "api/inference/routes.h"
#include "api/poc/callbacks.h"
#include "api/server/admin_server.h"
#include "api/server/callback_server.h"
#include "api/server/metrics.h"
#include "api/state/node_registry.h"
#include "api/state/state_store.h"
#include "api/status/routes.h"
#include "api/upgrade/node_versions.h"
#include "api/upgrade/version_switcher.h"
#include "api/validation/payload_endpoint.h"
#include "api/validation/payload_store.h"
#include "api/validation/validator.h"
#include "api/validation/validator_http.h"
#include "common/bech32.h"
#include "common/bytes.h"
#include "common/file_util.h"
#include "common/keyring.h"
#include "common/log.h"
#include "common/validator_key.h"
#include "inference/inference.pb.h"
#include "net/address_policy.h"
#include "net/http.h"

namespace api::app {

using nlohmann::json;
using std::chrono::milliseconds;

struct Dapi::Impl {
  config::Config cfg;
  std::atomic<bool> stopping{false};
  std::mutex mu;
  std::condition_variable cv;

  std::unique_ptr<state::StateStore> store;
  std::unique_ptr<chain::ChainClient> chain;
  std::string chain_id;
  std::string address;
  std::optional<common::secp256k1::PrivateKey> account_key;
  std::optional<common::ed25519::KeyPair> validator_key;
  server::Metrics metrics;
  std::unique_ptr<chain::TxSender> sender;
  std::unique_ptr<TxQueue> txs;
  std::unique_ptr<state::NodeRegistry> nodes;
  std::unique_ptr<Joiner> joiner;
  std::unique_ptr<Controller> controller;
  // MLNode versions (ARCHITECTURE §8): the per-node version every MLNode URL uses, and the switch at an
  // upgrade height (api/upgrade).
  broker::SteadyClock clock;
  std::unique_ptr<upgrade::NodeVersions> versions;
  std::unique_ptr<upgrade::VersionSwitcher> switcher;
  std::unique_ptr<net::Server> public_server, admin_server, callback_server;
  std::unique_ptr<chain::BlockFollower> follower;
  std::unique_ptr<inference::InferenceService> inference;
  std::unique_ptr<status::StatusBoard> status_board;
  // Inference validation (docs/inference-validation.md): the executor's payloads and the validator.
  std::unique_ptr<validation::PayloadStore> payloads;
  std::unique_ptr<validation::ChainView> validation_chain;
  std::unique_ptr<validation::HttpPayloadFetcher> payload_fetcher;
  std::unique_ptr<validation::HttpReplayer> replayer;
  std::unique_ptr<validation::Validator> validator;
  uint64_t validation_params_height = 0;  // when the schedule params were last read (follower thread)

  explicit Impl(config::Config c) : cfg(std::move(c)) {}

  // Sleeps `d` unless stopping; false when stopping.
  bool pause(milliseconds d) {
    std::unique_lock lock(mu);
    return !cv.wait_for(lock, d, [&] { return stopping.load(); });
  }

  bool load_keys() {
    std::string hrp = cfg.address_prefix;
    try {
      common::Keyring keyring(cfg.keyring_file, hrp);
      auto info = keyring.find(cfg.key_name);
      if (!info) {
        spdlog::error("key \"{}\" not found in {} (create it with: dapi init --key {})", cfg.key_name,
                      cfg.keyring_file, cfg.key_name);
        return false;
      }
      account_key = keyring.private_key(cfg.key_name);
      address = info->address;
    } catch (const std::exception& e) {
      spdlog::error("{}", e.what());
      return false;
    }
    auto decoded = common::bech32::decode(address);
    if (!decoded || decoded->hrp != cfg.address_prefix) {
      spdlog::error("key \"{}\" has address {} but chain_node.address_prefix is \"{}\"", cfg.key_name,
                    address, cfg.address_prefix);
      return false;
    }
    auto vk = common::read_validator_key(cfg.validator_key_file);
    if (!vk) {
      spdlog::error("key.validator_key_file: {}", vk.error().message);
      return false;
    }
    validator_key = *vk;
    return true;
  }

  // Waits for the chain node, logging why it is not reachable; false when stopping.
  bool wait_for_chain() {
    for (unsigned attempt = 1;; ++attempt) {
      auto st = chain->status();
      if (st && st->height > 0) {
        chain_id = st->chain_id;
        spdlog::info("chain node {} reachable: chain {} at height {}", cfg.chain_node_url, chain_id,
                     st->height);
        return true;
      }
      // Says what is tried, why it failed and what the operator can do; dapi keeps trying until stopped.
      spdlog::warn(
          "waiting for the chain node: GET {}/status (attempt {}) failed: {}; retrying every {} ms. Nothing "
          "else starts until it answers: start inferenced (or wait for its first block), or fix "
          "chain_node.url "
          "in {} and restart dapi",
          cfg.chain_node_url, attempt, st ? std::string("the chain has no block yet") : st.error().message,
          cfg.chain_retry_ms, config::config_path(cfg.home));
      if (!pause(milliseconds(cfg.chain_retry_ms))) return false;
    }
  }

  common::Result<std::vector<std::string>> governance_model_ids() const {
    auto models = chain->governance_models();
    if (!models) return models.error();
    std::vector<std::string> ids;
    for (const auto& m : *models) ids.push_back(m.id);
    return ids;
  }

  // Config nodes must name governance models; false (with the message) otherwise.
  bool check_config_models() {
    if (cfg.nodes.empty()) return true;
    for (;;) {
      auto ids = governance_model_ids();
      if (ids) {
        for (size_t i = 0; i < cfg.nodes.size(); ++i) {
          auto msg = server::unknown_models_message(cfg.nodes[i].id, cfg.nodes[i].model_order, *ids);
          if (!msg.empty()) {
            spdlog::error("{}: nodes[{}]: {}", config::config_path(cfg.home), i, msg);
            return false;
          }
        }
        return true;
      }
      spdlog::warn("cannot read governance models yet: {}; retrying", ids.error().message);
      if (!pause(milliseconds(cfg.chain_retry_ms))) return false;
    }
  }

  common::Status persist_versions(const std::string& current, const std::string& last_used) {
    state::WriteSet ws;
    ws.put(state::keys::mlnode_version_current(), current);
    ws.put(state::keys::mlnode_version_last_used(), last_used);
    return store->write(ws);
  }

  // The MLNode versions at start-up: the chain's current one (the target every node must use) and the
  // persisted last_used_version (what the nodes still run; the chain's on a first start). They differ when
  // dapi was down across an upgrade height: the switcher then stops the old version node by node at once.
  struct StartVersions {
    std::string target, last_used;
    std::optional<upgrade::PendingUpgrade> next;
  };
  std::optional<StartVersions> start_versions() {
    for (;;) {
      auto v = chain->mlnode_version();
      if (v && upgrade::is_safe_version(v->current_mlnode_version)) {
        StartVersions out;
        out.target = v->current_mlnode_version;
        auto saved = store->get(state::keys::mlnode_version_last_used());
        out.last_used = saved && upgrade::is_safe_version(*saved) ? *saved : out.target;
        if (v->next_upgrade && upgrade::is_safe_version(v->next_upgrade->node_version))
          out.next = upgrade::PendingUpgrade{v->next_upgrade->height, v->next_upgrade->node_version};
        if (auto st = persist_versions(out.target, out.last_used); !st)
          spdlog::error("{}", st.error().message);
        if (out.last_used != out.target) {
          spdlog::warn(
              "MLNode version: the chain requires {} but the nodes last used {} (dapi was down across an "
              "upgrade "
              "height): switching now, node by node ({} is stopped, then {} loaded)",
              out.target, out.last_used, out.last_used, out.target);
        } else {
          spdlog::info("MLNode version {} (URLs http://host:port/{}/...)", out.target, out.target);
        }
        return out;
      }
      std::string why = v ? "not a usable version: \"" + v->current_mlnode_version + "\"" : v.error().message;
      spdlog::warn("cannot read the MLNode version from the chain: {}; retrying", why);
      if (!pause(milliseconds(cfg.chain_retry_ms))) return std::nullopt;
    }
  }

  std::unique_ptr<net::Server> serve(
      net::Router router, const config::ListenAddress& at, const std::string& name, std::size_t max_body,
      milliseconds write_timeout = milliseconds(0),
      std::function<net::Response(int, const std::string&, const std::string&)> error_response = {}) {
    net::ServerOptions o;
    o.write_timeout = write_timeout;
    o.error_response = std::move(error_response);
    o.address = at.host;
    o.port = at.port;
    o.threads = 2;
    o.max_handler_threads = 16;
    o.max_body_bytes = max_body;
    o.name = name;
    auto s = std::make_unique<net::Server>(std::move(router), o);
    s->start();
    spdlog::info("{} server listening on {}:{}", name, at.host, s->port());
    return s;
  }

  void on_block(const chain::Block& block) {
    metrics.gauge_set("dapi_block_height", "Last block processed by the follower", {},
                      static_cast<double>(block.height));
    // The phase of this block, from the shared stage function as reported by the chain's epoch query.
    std::optional<chain::EpochInfo> epoch;
    for (unsigned attempt = 1; !stopping;
         ++attempt) {  // a block is never skipped: retry until the chain answers
      auto e = chain->epoch();
      if (e) {
        epoch = *e;
        break;
      }
      spdlog::warn("height {}: cannot read the epoch (attempt {}): {}; retrying", block.height, attempt,
                   e.error().message);
      pause(milliseconds(std::min<uint64_t>(200ull * attempt, 5000)));
    }
    if (!epoch) return;  // stopping: the block is processed again after the restart
    {
      metrics.gauge_set("dapi_epoch_index", "Effective epoch index", {},
                        static_cast<double>(epoch->epoch_index));
      metrics.gauge_clear("dapi_phase");
      metrics.gauge_set("dapi_phase", "Current epoch phase (1 for the phase named by the label)",
                        {{"phase", epoch->phase}}, 1);
      spdlog::debug("height {} epoch {} phase {}", block.height, epoch->epoch_index, epoch->phase);
    }
    status_board->on_block(block, *epoch);
    switcher->on_block(block);  // an upgrade at this height switches the target before anything else
    controller->on_block(block, *epoch);
    on_block_validation(block, epoch->params.epoch_length);
    if (stopping) return;  // not recorded: the block is processed again after the restart
    if (auto st = store->set_last_processed_height(block.height); !st) {
      spdlog::error("height {}: {}", block.height, st.error().message);
    }
  }

  // The validator remembers the sampled inferences of this block; the payload store learns the height and,
  // every 10 blocks, the validation params (rate, expiration) and prunes payloads past their deadline.
  void on_block_validation(const chain::Block& block, uint64_t epoch_length) {
    validator->on_block(block);
    if (validation_params_height != 0 && block.height < validation_params_height + 10) {
      payloads->set_chain(block.height, payloads_on, expiration_blocks, epoch_length);
      return;
    }
    auto body = chain->get_raw("/inference/schedule-params");
    json p = body ? json::parse(*body, nullptr, false) : json();
    if (p.is_object() && p["params"].is_object()) {
      const json& params = p["params"];
      payloads_on = params.value("inference_validation_rate_ppm", uint64_t{0}) > 0;
      expiration_blocks = params.value("inference_expiration_blocks", uint64_t{20});
      validation_params_height = block.height;
    } else {
      spdlog::warn("height {}: cannot read the schedule params for validation; keeping the last ones",
                   block.height);
    }
    payloads->set_chain(block.height, payloads_on, expiration_blocks, epoch_length);
    if (auto n = payloads->prune(block.height); n > 0) spdlog::debug("pruned {} validation payloads", n);
    uint64_t keep = 2 * expiration_blocks + epoch_length + 10;  // past every deadline (payload_store.h)
    if (block.height > keep) {
      if (auto n = validator->prune(block.height - keep); n > 0)
        spdlog::debug("pruned {} validation outcomes", n);
    }
  }
  bool payloads_on = true;
  uint64_t expiration_blocks = 20;

  inference::InferenceDeps inference_deps() {
    inference::InferenceDeps d{chain.get(), sender.get(), nullptr,      nullptr,
                               address,     *account_key, cfg.api_keys, &metrics};
    d.enqueue = [this](const std::string& key, common::tx::TxMessage m) -> common::Status {
      auto r = txs->enqueue(key, "inference_finish", std::move(m));
      if (!r) return r.error();
      return {};
    };
    d.local_nodes = [this] { return enabled_nodes(); };
    d.payloads = payloads.get();
    d.versions = versions.get();
    d.node_health = [this](const std::string& id) -> std::optional<inference::NodeHealth> {
      json v = controller->node_state(id);
      if (!v.is_object() || !v.contains("status")) return std::nullopt;
      inference::NodeHealth h;
      h.status = v.value("status", "");
      h.failure_reason = v.value("failure_reason", "");
      if (v["observed"].is_object()) {
        h.service = v["observed"].value("service", "");
        h.model = v["observed"].value("model", "");
        h.healthy = v["observed"].value("healthy", false);
      }
      return h;
    };
    return d;
  }

  inference::InferenceOptions inference_options() const {
    inference::InferenceOptions o;
    auto hop = [](const config::Config::HopTimeouts& c) {
      return inference::HopTimeouts{milliseconds(c.connect_ms), milliseconds(c.first_byte_ms),
                                    milliseconds(c.idle_ms), milliseconds(c.total_ms)};
    };
    o.executor_hop = hop(cfg.executor_hop);
    o.mlnode_hop = hop(cfg.mlnode_hop);
    for (const auto& n : cfg.allowed_networks) o.outbound.allowed.push_back(*net::parse_network(n));
    return o;
  }

  // The status page's sources (GET /, GET /v1/status): public facts only (status_json.h).
  status::StatusBoardDeps status_deps() {
    status::StatusBoardDeps d;
    d.participant = address;
    d.current_mlnode_version = [this] { return versions->target(); };
    d.nodes = [this] {
      std::vector<status::NodeInput> out;
      for (const auto& n : nodes->list())
        out.push_back(status::node_input(n.config, n.enabled, controller->node_state(n.config.id)));
      return out;
    };
    auto group_chain = std::make_shared<chain::ChainClient>(
        cfg.chain_node_url, chain::ChainClientOptions{milliseconds(2000), 1, milliseconds(0)});
    d.current_group = [group_chain] { return group_chain->epoch_group(chain::GroupEpoch::kCurrent); };
    return d;
  }

  std::vector<config::NodeConfig> enabled_nodes() const {
    std::vector<config::NodeConfig> out;
    for (const auto& n : nodes->list())
      if (n.enabled) out.push_back(n.config);
    return out;
  }

  void make_validator() {
    auto fault = validation::output_fault_from_env();
    if (fault != validation::OutputFault::kNone) {
      spdlog::warn(
          "TEST FAULT {} ENABLED: this executor alters its outputs (tests only; validation must catch it)",
          std::getenv(validation::kFaultEnv));
    }
    payloads = std::make_unique<validation::PayloadStore>(*store, fault);
    validation_chain = std::make_unique<validation::ChainView>(*chain);
    payload_fetcher =
        std::make_unique<validation::HttpPayloadFetcher>(*account_key, address, inference_options().outbound);
    replayer = std::make_unique<validation::HttpReplayer>(
        *chain, address, [this] { return enabled_nodes(); }, milliseconds(120000), versions.get());
    validation::ValidatorDeps vd;
    vd.address = address;
    vd.chain = validation_chain.get();
    vd.fetcher = payload_fetcher.get();
    vd.replayer = replayer.get();
    vd.store = store.get();
    vd.metrics = &metrics;
    vd.vote = [this](const std::string& id, bool valid, const state::WriteSet& extra) -> common::Status {
      ::inference::inference::MsgValidateInference msg;
      msg.set_creator(address);
      msg.set_inference_id(id);
      msg.set_valid(valid);
      auto r = txs->enqueue_with(
          "inference_validation/" + id, "inference_validation",
          common::tx::TxMessage{"/inference.inference.MsgValidateInference", msg.SerializeAsString()}, extra);
      if (!r) return r.error();
      return {};
    };
    validator = std::make_unique<validation::Validator>(std::move(vd));
  }

  int run() {
    if (!load_keys()) return 1;
    auto opened = state::StateStore::open(cfg.state_dir);
    if (!opened) {
      spdlog::error("{}", opened.error().message);
      return 1;
    }
    store = std::move(*opened);
    chain = std::make_unique<chain::ChainClient>(cfg.chain_node_url);
    spdlog::info("dapi for participant {} (key \"{}\"), public url {}", address, cfg.key_name,
                 cfg.public_url);
    if (!wait_for_chain()) return 0;
    if (!check_config_models()) return stopping ? 0 : 1;

    chain::TxSenderOptions so;
    so.address_prefix = cfg.address_prefix;
    sender = std::make_unique<chain::TxSender>(*chain, *account_key, chain_id, so);
    txs = std::make_unique<TxQueue>(*store, *sender, metrics, TxQueueOptions{}, chain.get());
    nodes = std::make_unique<state::NodeRegistry>(cfg.nodes, *store);
    joiner = std::make_unique<Joiner>(*chain, *txs, *nodes, address, cfg.public_url, *validator_key, chain_id,
                                      milliseconds(cfg.hardware_sync_interval_ms));
    auto start = start_versions();
    if (!start) return 0;  // stopping
    versions = std::make_unique<upgrade::NodeVersions>(start->target, start->last_used);
    make_validator();
    ControllerDeps cd;
    cd.chain = chain.get();
    cd.txs = txs.get();
    cd.store = store.get();
    cd.nodes = nodes.get();
    cd.metrics = &metrics;
    cd.address = address;
    cd.account_key = *account_key;
    cd.callback_url = cfg.callback_url;
    cd.versions = versions.get();
    cd.recheck_interval = milliseconds(cfg.reconcile_interval_ms);
    cd.validation_sample_size = cfg.poc_validation_sample_size;
    controller = std::make_unique<Controller>(std::move(cd));
    upgrade::SwitcherDeps sd;
    sd.versions = versions.get();
    sd.fleet = controller.get();
    sd.clock = &clock;
    // Its own short-timeout client: a hanging chain delays the node switch steps by at most 2 s per check.
    auto version_chain = std::make_shared<chain::ChainClient>(
        cfg.chain_node_url, chain::ChainClientOptions{milliseconds(2000), 1, milliseconds(0)});
    sd.chain_version = [version_chain] { return version_chain->mlnode_version(); };
    sd.persist = [this](const std::string& current, const std::string& last_used) {
      return persist_versions(current, last_used);
    };
    sd.metrics = &metrics;
    upgrade::SwitcherOptions sw_options;
    sw_options.check_interval = milliseconds(cfg.mlnode_version_check_interval_ms);
    sw_options.node.drain_timeout = milliseconds(cfg.mlnode_drain_timeout_ms);
    sw_options.node.load_timeout = milliseconds(cfg.mlnode_load_timeout_ms);
    switcher = std::make_unique<upgrade::VersionSwitcher>(std::move(sd), start->target, start->last_used,
                                                          sw_options);
    switcher->set_next_upgrade(start->next);
    nodes->on_change([this] {
      joiner->wake();
      controller->sync_nodes();
    });

    try {
      net::Router pub;
      pub.add("GET", "/metrics", [this](const net::Request&) {
        net::Response r;
        r.content_type = "text/plain; version=0.0.4";
        r.body = metrics.render();
        return r;
      });
      pub.add("GET", "/health",
              [](const net::Request&) { return net::json_response(200, R"({"status":"ok"})"); });
      inference = std::make_unique<inference::InferenceService>(inference_deps(), inference_options());
      inference::register_routes(pub, *inference);
      status_board = std::make_unique<status::StatusBoard>(status_deps());
      status::register_routes(pub, *status_board);
      validation::PayloadEndpointDeps pd;
      pd.chain = chain.get();
      pd.store = payloads.get();
      pd.address = address;
      validation::register_payload_route(pub, std::move(pd));
      // OpenAI clients read every error of the public server in the OpenAI shape (413 included).
      public_server = serve(std::move(pub), cfg.public_listen, "public", 1 << 20,
                            milliseconds(cfg.client_write_timeout_ms),
                            [](int status, const std::string& code, const std::string& message) {
                              return inference::openai_error(status, code, message);
                            });

      server::AdminDeps admin;
      admin.nodes = nodes.get();
      admin.token = cfg.admin_token;
      admin.governance_model_ids = [this] { return governance_model_ids(); };
      admin.node_state = [this](const std::string& id) { return controller->node_state(id); };
      admin_server = serve(server::admin_router(std::move(admin)), cfg.admin_listen, "admin", 1 << 20);

      server::CallbackDeps callbacks;
      callbacks.generated = [this](const std::string& body) { return controller->on_generated(body); };
      callbacks.validated = [this](const std::string& body) { return controller->on_validated(body); };
      callback_server = serve(server::callback_router(std::move(callbacks)), cfg.callback_listen,
                              "mlnode-callback", poc::kDefaultMaxCallbackBytes);
    } catch (const std::exception& e) {
      spdlog::error("{}", e.what());
      return 1;
    }

    controller->start();
    switcher->start();
    txs->start();
    joiner->start();
    validator->start();
    uint64_t from = store->last_processed_height() + 1;
    if (from == 1) {
      auto st = chain->status();
      from = st ? st->height : 1;  // a new dapi starts at the current block
    }
    spdlog::info("following blocks from height {}", from);
    status_board->start_backfill([this](uint64_t h) { return chain->block(h); }, from);
    follower = std::make_unique<chain::BlockFollower>(cfg.chain_node_url, from,
                                                      [this](const chain::Block& b) { on_block(b); });
    follower->start();

    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return stopping.load(); });
    }
    spdlog::info("stopping");
    follower->stop();
    validator->stop();
    controller->stop();  // first: cancels the MLNode calls in flight, a switch's stop included
    switcher->stop();
    joiner->stop();
    txs->stop();
    for (auto* s : {&public_server, &admin_server, &callback_server}) {
      if (*s) (*s)->stop(milliseconds(2000));
    }
    return 0;
  }
};

Dapi::Dapi(config::Config config) : impl_(std::make_unique<Impl>(std::move(config))) {}
Dapi::~Dapi() = default;

int Dapi::run() {
  return impl_->run();
}

void Dapi::stop() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopping = true;
  }
  impl_->cv.notify_all();
}

InitResult init_home(const std::string& home, const config::InitOptions& options, bool overwrite) {
  std::string path = config::config_path(home);
  if (std::filesystem::exists(path) && !overwrite) {
    throw std::runtime_error(path + " already exists; pass --overwrite to replace it");
  }
  config::InitOptions o = options;
  if (o.admin_token.empty()) {
    unsigned char raw[24];
    if (RAND_bytes(raw, sizeof raw) != 1) throw std::runtime_error("no random source for the admin token");
    o.admin_token = common::to_hex(std::string(reinterpret_cast<char*>(raw), sizeof raw));
  }
  std::string text = config::render_init_config(o);
  auto parsed = config::parse(text, home);  // what init writes must load
  if (!parsed) throw std::runtime_error("invalid init options: " + parsed.error().message);
  std::filesystem::create_directories(home);
  common::write_file_atomic(path, text, 0600);

  common::Keyring keyring(parsed->keyring_file, o.address_prefix);
  auto info = keyring.find(o.key_name);
  if (!info) info = keyring.add(o.key_name);
  if (!common::read_validator_key(parsed->validator_key_file)) {
    std::filesystem::create_directories(std::filesystem::path(parsed->validator_key_file).parent_path());
    common::write_validator_key(parsed->validator_key_file, common::ed25519::generate());
  }
  auto vk = common::read_validator_key(parsed->validator_key_file);
  if (!vk) throw std::runtime_error(vk.error().message);
  return InitResult{info->address, path, common::to_base64(vk->public_key)};
}

}  // namespace api::app
