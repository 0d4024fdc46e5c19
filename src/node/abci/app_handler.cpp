#include "node/abci/app_handler.h"

#include <algorithm>
#include <map>
#include <stdexcept>

#include <spdlog/spdlog.h>

#include "abci/types.pb.h"
#include "chain/types/codes.h"
#include "common/bytes.h"
#include "common/json_text.h"
#include "common/tx/tx_codec.h"

namespace node::abci {

namespace ab = tendermint::abci;

namespace {

int64_t unix_ms(const google::protobuf::Timestamp& t) {
  return t.seconds() * 1000 + t.nanos() / 1000000;
}

std::string hex(std::string_view bytes) {
  return common::to_hex(bytes);
}

// Bytes a tx takes in the block's Data: field tag, length prefix and the tx (how CometBFT's mempool counts).
int64_t proto_tx_size(std::size_t n) {
  int64_t prefix = 1;
  for (uint64_t v = n; v >= 0x80; v >>= 7) ++prefix;
  return 1 + prefix + static_cast<int64_t>(n);
}

// CometBFT's indexers own the composite keys tx.hash, tx.height and block.height and refuse to index a block
// whose events use them (the whole block's txs then go unindexed). CometBFT fills them itself, so such
// attributes are left out of the ABCI response; the node's own block records keep the app's events as they
// are.
bool reserved_by_cometbft(const std::string& type, const std::string& key) {
  return (type == "tx" && (key == "hash" || key == "height")) || (type == "block" && key == "height");
}

void copy_events(const std::vector<chain::types::Event>& from,
                 google::protobuf::RepeatedPtrField<ab::Event>* to) {
  for (const auto& e : from) {
    auto* pe = to->Add();
    pe->set_type(e.type);
    for (const auto& [k, v] : e.attributes) {
      if (reserved_by_cometbft(e.type, k)) continue;
      auto* a = pe->add_attributes();
      a->set_key(k);
      a->set_value(v);
      a->set_index(true);
    }
  }
}

// A read-only CommitStore over the committed state, for a throwaway App that re-runs CheckTx on proposal
// candidates without touching the mempool's view. Valid while the app lock is held (no commit can happen).
class CommittedView final : public chain::store::CommitStore {
 public:
  explicit CommittedView(const chain::store::CommitStore& base)
      : base_(base), snapshot_(base.snapshot()), info_(base.last_commit()) {}
  std::optional<std::string> get(std::string_view key) const override { return snapshot_->get(key); }
  void scan(std::string_view start, std::string_view end, const chain::store::ScanFn& fn) const override {
    snapshot_->scan(start, end, fn);
  }
  chain::store::CommitInfo last_commit() const override { return info_; }
  void commit(const chain::store::WriteSet&, const chain::store::CommitInfo&,
              const chain::store::WriteSet&) override {
    throw std::logic_error("CommittedView is read-only");
  }
  std::optional<std::string> get_aux(std::string_view key) const override { return base_.get_aux(key); }
  void scan_aux(std::string_view start, std::string_view end, const chain::store::ScanFn& fn) const override {
    base_.scan_aux(start, end, fn);
  }
  std::unique_ptr<chain::store::KvReader> snapshot() const override { return base_.snapshot(); }
  std::optional<StateView> state_at(uint64_t height) const override { return base_.state_at(height); }
  uint64_t oldest_kept_height() const override { return base_.oldest_kept_height(); }

 private:
  const chain::store::CommitStore& base_;
  std::unique_ptr<chain::store::KvReader> snapshot_;
  chain::store::CommitInfo info_;
};

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2])));
      i += 2;
    } else if (s[i] == '+') {
      out.push_back(' ');
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// Logs go to CometBFT as strings (and from there into its JSON RPC): bytes that are not UTF-8 are shown as
// \xNN.
std::string safe_log(const std::string& log) {
  return common::is_valid_utf8(log) ? log : common::printable(log, log.size());
}

const char* request_name(ab::Request::ValueCase c) {
  switch (c) {
    case ab::Request::kEcho:
      return "Echo";
    case ab::Request::kFlush:
      return "Flush";
    case ab::Request::kInfo:
      return "Info";
    case ab::Request::kInitChain:
      return "InitChain";
    case ab::Request::kQuery:
      return "Query";
    case ab::Request::kCheckTx:
      return "CheckTx";
    case ab::Request::kCommit:
      return "Commit";
    case ab::Request::kListSnapshots:
      return "ListSnapshots";
    case ab::Request::kOfferSnapshot:
      return "OfferSnapshot";
    case ab::Request::kLoadSnapshotChunk:
      return "LoadSnapshotChunk";
    case ab::Request::kApplySnapshotChunk:
      return "ApplySnapshotChunk";
    case ab::Request::kPrepareProposal:
      return "PrepareProposal";
    case ab::Request::kProcessProposal:
      return "ProcessProposal";
    case ab::Request::kExtendVote:
      return "ExtendVote";
    case ab::Request::kVerifyVoteExtension:
      return "VerifyVoteExtension";
    case ab::Request::kFinalizeBlock:
      return "FinalizeBlock";
    case ab::Request::VALUE_NOT_SET:
      break;
  }
  return "unknown";
}

}  // namespace

std::string split_query_path(const std::string& full_path, std::map<std::string, std::string>& params) {
  auto q = full_path.find('?');
  if (q == std::string::npos) return full_path;
  std::string_view rest = std::string_view(full_path).substr(q + 1);
  while (!rest.empty()) {
    auto amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    if (pair.empty()) continue;
    auto eq = pair.find('=');
    std::string key = percent_decode(pair.substr(0, eq));
    std::string value = eq == std::string_view::npos ? "" : percent_decode(pair.substr(eq + 1));
    params[key] = value;
  }
  return full_path.substr(0, q);
}

void append_validator_updates(const std::vector<chain::app::ValidatorUpdate>& updates,
                              ab::ResponseFinalizeBlock& res) {
  std::map<std::string, int64_t> last_power;
  for (const auto& u : updates) {
    if (u.pub_key.size() != 32 || u.power < 0) {
      throw std::logic_error("app returned an invalid validator update (key of " +
                             std::to_string(u.pub_key.size()) + " bytes, power " + std::to_string(u.power) +
                             ")");
    }
    last_power[u.pub_key] = u.power;
  }
  for (const auto& u : updates) {
    auto it = last_power.find(u.pub_key);
    if (it == last_power.end()) continue;  // already emitted
    auto* vu = res.add_validator_updates();
    vu->mutable_pub_key()->set_ed25519(u.pub_key);
    vu->set_power(it->second);
    last_power.erase(it);
  }
}

common::Result<chain::app::Genesis> genesis_from_init_chain(const ab::RequestInitChain& req,
                                                            const std::optional<chain::app::Genesis>& base) {
  auto bad = [](const std::string& what) {
    return common::make_error(chain::codes::kInvalidRequest, "InitChain: " + what);
  };
  chain::app::Genesis g = base.value_or(chain::app::Genesis{});
  if (req.chain_id().empty()) return bad("CometBFT sent an empty chain_id");
  if (base && !base->chain_id.empty() && base->chain_id != req.chain_id()) {
    return bad("CometBFT's genesis is for chain \"" + req.chain_id() +
               "\" but inferenced's genesis.json is for \"" + base->chain_id + "\"");
  }
  g.chain_id = req.chain_id();
  if (req.initial_height() > 1) {
    return bad("initial_height " + std::to_string(req.initial_height()) + " is not supported; use 1");
  }
  if (req.has_time()) g.genesis_time_unix_ms = unix_ms(req.time());

  if (!req.app_state_bytes().empty()) {
    auto parsed = nlohmann::json::parse(req.app_state_bytes(), nullptr, /*allow_exceptions=*/false);
    if (parsed.is_discarded() || !parsed.is_object())
      return bad("app_state in CometBFT's genesis is not a JSON object");
    g.app_state = std::move(parsed);
  }

  std::vector<chain::app::GenesisValidator> validators;
  for (const auto& v : req.validators()) {
    if (v.pub_key().sum_case() != tendermint::crypto::PublicKey::kEd25519 ||
        v.pub_key().ed25519().size() != 32) {
      return bad("genesis validator keys must be ed25519 (32 bytes)");
    }
    if (v.power() <= 0)
      return bad("genesis validator " + common::to_base64(v.pub_key().ed25519()) + " has power 0");
    chain::app::GenesisValidator gv;
    gv.pub_key = v.pub_key().ed25519();
    gv.power = v.power();
    if (base) {
      auto it = std::find_if(base->validators.begin(), base->validators.end(),
                             [&](const auto& b) { return b.pub_key == gv.pub_key; });
      if (it != base->validators.end()) {
        gv.name = it->name;
        gv.operator_address = it->operator_address;
      }
    }
    validators.push_back(std::move(gv));
  }
  if (validators.empty()) return bad("CometBFT's genesis has no validators");
  if (base && !base->validators.empty()) {
    // The consensus keys in inferenced's genesis must be CometBFT's priv_validator keys, with the same power.
    auto key_of = [](const chain::app::GenesisValidator& v) { return std::make_pair(v.pub_key, v.power); };
    std::vector<std::pair<std::string, int64_t>> ours, theirs;
    for (const auto& v : base->validators) ours.push_back(key_of(v));
    for (const auto& v : validators) theirs.push_back(key_of(v));
    std::sort(ours.begin(), ours.end());
    std::sort(theirs.begin(), theirs.end());
    if (ours != theirs) {
      std::string msg =
          "the validators in CometBFT's genesis differ from inferenced's genesis.json; CometBFT has";
      for (const auto& [k, p] : theirs) msg += " " + common::to_base64(k) + ":" + std::to_string(p);
      msg += ", inferenced has";
      for (const auto& [k, p] : ours) msg += " " + common::to_base64(k) + ":" + std::to_string(p);
      return bad(msg);
    }
  }
  g.validators = std::move(validators);
  return g;
}

AppHandler::AppHandler(chain::app::App& app, chain::store::CommitStore& store, std::mutex& app_mutex,
                       NodeHooks* hooks, AppHandlerOptions options)
    : app_(app), store_(store), mu_(app_mutex), hooks_(hooks), options_(std::move(options)) {}

void AppHandler::handle(const ab::Request& request, ab::Response& response) {
  std::optional<std::string> failure;
  try {
    switch (request.value_case()) {
      case ab::Request::kEcho:
        response.mutable_echo()->set_message(request.echo().message());
        break;
      case ab::Request::kFlush:
        response.mutable_flush();
        break;
      case ab::Request::kInfo:
        info(request.info(), *response.mutable_info());
        break;
      case ab::Request::kInitChain:
        failure = init_chain(request.init_chain(), *response.mutable_init_chain());
        break;
      case ab::Request::kQuery:
        query(request.query(), *response.mutable_query());
        break;
      case ab::Request::kCheckTx:
        check_tx(request.check_tx(), *response.mutable_check_tx());
        break;
      case ab::Request::kCommit:
        failure = commit(*response.mutable_commit());
        break;
      case ab::Request::kListSnapshots:
        response.mutable_list_snapshots();  // no state sync: no snapshots
        break;
      case ab::Request::kOfferSnapshot:
        response.mutable_offer_snapshot()->set_result(ab::ResponseOfferSnapshot::ABORT);
        break;
      case ab::Request::kLoadSnapshotChunk:
        response.mutable_load_snapshot_chunk();
        break;
      case ab::Request::kApplySnapshotChunk:
        response.mutable_apply_snapshot_chunk()->set_result(ab::ResponseApplySnapshotChunk::ABORT);
        break;
      case ab::Request::kPrepareProposal:
        prepare_proposal(request.prepare_proposal(), *response.mutable_prepare_proposal());
        break;
      case ab::Request::kProcessProposal:
        process_proposal(request.process_proposal(), *response.mutable_process_proposal());
        break;
      case ab::Request::kExtendVote:
        response.mutable_extend_vote();  // no vote extensions (empty is valid when they are enabled)
        break;
      case ab::Request::kVerifyVoteExtension:
        response.mutable_verify_vote_extension()->set_status(ab::ResponseVerifyVoteExtension::ACCEPT);
        break;
      case ab::Request::kFinalizeBlock:
        failure = finalize_block(request.finalize_block(), *response.mutable_finalize_block());
        break;
      case ab::Request::VALUE_NOT_SET:
        failure = "request of unknown type (not an ABCI 2.0 / CometBFT v0.38 request)";
        break;
    }
  } catch (const std::exception& e) {
    if (!answer_failure(request, response, e.what())) {
      failure = std::string(request_name(request.value_case())) + " failed: " + e.what();
    }
  }
  if (failure) {
    // Only the methods that execute or persist blocks get here (halts_on_failure): going on would diverge.
    std::string message =
        "broken invariant, the node stops so it does not diverge: " + common::printable(*failure, 4096);
    spdlog::critical("abci: {}", message);
    response.mutable_exception()->set_error(message);
  }
}

bool AppHandler::halts_on_failure(int value_case) {
  switch (static_cast<ab::Request::ValueCase>(value_case)) {
    case ab::Request::kInfo:           // the last committed height: no honest answer without the store
    case ab::Request::kInitChain:      // the genesis state
    case ab::Request::kFinalizeBlock:  // block execution
    case ab::Request::kCommit:         // persisting it
    case ab::Request::VALUE_NOT_SET:   // not CometBFT v0.38: nothing sensible to answer
      return true;
    default:
      return false;
  }
}

bool AppHandler::answer_failure(const ab::Request& request, ab::Response& response, const std::string& what) {
  if (halts_on_failure(request.value_case())) return false;
  const std::string name = request_name(request.value_case());
  spdlog::error("abci: {} failed, answered with an error and carrying on: {}", name,
                common::printable(what, 1024));
  response.Clear();
  const std::string log = name + " failed inside the node: " + common::printable(what, 1024);
  switch (request.value_case()) {
    case ab::Request::kQuery:
      response.mutable_query()->set_code(chain::codes::kInternal);
      response.mutable_query()->set_log(log);
      break;
    case ab::Request::kCheckTx:
      response.mutable_check_tx()->set_code(chain::codes::kInternal);
      response.mutable_check_tx()->set_log(log);
      break;
    case ab::Request::kPrepareProposal:
      response.mutable_prepare_proposal();  // an empty block is always a valid proposal
      break;
    case ab::Request::kProcessProposal:
      response.mutable_process_proposal()->set_status(ab::ResponseProcessProposal::REJECT);
      break;
    case ab::Request::kEcho:
      response.mutable_echo();
      break;
    case ab::Request::kFlush:
      response.mutable_flush();
      break;
    case ab::Request::kListSnapshots:
      response.mutable_list_snapshots();
      break;
    case ab::Request::kOfferSnapshot:
      response.mutable_offer_snapshot()->set_result(ab::ResponseOfferSnapshot::ABORT);
      break;
    case ab::Request::kLoadSnapshotChunk:
      response.mutable_load_snapshot_chunk();
      break;
    case ab::Request::kApplySnapshotChunk:
      response.mutable_apply_snapshot_chunk()->set_result(ab::ResponseApplySnapshotChunk::ABORT);
      break;
    case ab::Request::kExtendVote:
      response.mutable_extend_vote();
      break;
    case ab::Request::kVerifyVoteExtension:
      response.mutable_verify_vote_extension()->set_status(ab::ResponseVerifyVoteExtension::REJECT);
      break;
    default:
      return false;
  }
  return true;
}

void AppHandler::info(const ab::RequestInfo& req, ab::ResponseInfo& res) {
  chain::store::CommitInfo last;
  {
    std::lock_guard lock(mu_);
    last = app_.info();
  }
  res.set_data("inferenced");
  res.set_version(options_.version);
  res.set_app_version(options_.app_version);
  res.set_last_block_height(static_cast<int64_t>(last.height));
  res.set_last_block_app_hash(last.app_hash);
  spdlog::debug("abci: Info from CometBFT {} (abci {}): height {}, app hash {}", req.version(),
                req.abci_version(), last.height, hex(last.app_hash));
}

std::optional<std::string> AppHandler::init_chain(const ab::RequestInitChain& req,
                                                  ab::ResponseInitChain& res) {
  auto genesis = genesis_from_init_chain(req, options_.genesis);
  if (!genesis) return genesis.error().message;
  std::lock_guard lock(mu_);
  pending_.reset();
  pending_aux_.clear();
  auto hash = app_.init_chain(*genesis);
  if (!hash) return "InitChain: " + hash.error().message;
  res.set_app_hash(*hash);  // validators left empty: CometBFT keeps its genesis validators
  spdlog::info("abci: InitChain for chain {} with {} validators, genesis app hash {}", genesis->chain_id,
               genesis->validators.size(), hex(*hash));
  return std::nullopt;
}

void AppHandler::check_tx(const ab::RequestCheckTx& req, ab::ResponseCheckTx& res) {
  chain::app::TxOutcome out;
  {
    std::lock_guard lock(mu_);
    out = app_.check_tx(req.tx());
  }
  res.set_code(out.code);
  res.set_codespace(std::string(chain::codes::codespace_of(out.code)));
  res.set_log(safe_log(out.log));
  res.set_data(out.data);
  res.set_gas_used(out.gas_used);
}

void AppHandler::query(const ab::RequestQuery& req, ab::ResponseQuery& res) {
  std::map<std::string, std::string> params;
  std::string path = split_query_path(req.path(), params);
  if (path.rfind("/p2p/filter/", 0) == 0) return;  // CometBFT's peer filter (filter_peers): accept every peer
  if (!req.data().empty()) {
    auto extra = nlohmann::json::parse(req.data(), nullptr, /*allow_exceptions=*/false);
    if (extra.is_object()) {
      for (const auto& [k, v] : extra.items())
        params[k] = v.is_string() ? v.get<std::string>() : common::json_dump(v);
    }
  }
  // CometBFT's abci_query?height=N arrives as RequestQuery.height; a "height" in the path wins.
  if (req.height() < 0) {
    res.set_code(chain::codes::kInvalidHeight);
    res.set_log("height must not be negative");
    return;
  }
  if (req.height() > 0) params.emplace("height", std::to_string(req.height()));
  common::Result<nlohmann::json> answer = nlohmann::json();
  uint64_t height = 0;
  {
    std::lock_guard lock(mu_);
    height = app_.info().height;
    answer = app_.query(path, std::move(params), &height);
  }
  res.set_height(static_cast<int64_t>(height));  // the height of the state the answer comes from
  res.set_key(path);
  if (!answer) {
    res.set_code(answer.error().code);
    res.set_codespace(std::string(chain::codes::codespace_of(answer.error().code)));
    res.set_log(safe_log(answer.error().message));
    return;
  }
  res.set_value(common::json_dump(*answer));
}

void AppHandler::prepare_proposal(const ab::RequestPrepareProposal& req, ab::ResponsePrepareProposal& res) {
  const int64_t limit = req.max_tx_bytes() > 0 ? req.max_tx_bytes() : INT64_MAX;
  int64_t used = 0;
  std::size_t dropped_invalid = 0, dropped_size = 0;
  std::lock_guard lock(mu_);
  // Re-run CheckTx on each candidate, in order, against committed state (a throwaway App so the mempool's
  // view is untouched). Before the first commit the genesis is not in the store yet: stateless checks only.
  std::unique_ptr<CommittedView> view;
  std::unique_ptr<chain::app::App> scratch;
  if (store_.last_commit().height > 0) {
    view = std::make_unique<CommittedView>(store_);
    scratch = std::make_unique<chain::app::App>(*view);
  }
  for (const auto& tx : req.txs()) {
    const int64_t size = proto_tx_size(tx.size());
    if (used + size > limit) {
      ++dropped_size;
      continue;
    }
    bool ok = scratch ? scratch->check_tx(tx).code == 0 : common::tx::decode_tx(tx).ok();
    if (!ok) {
      ++dropped_invalid;
      continue;
    }
    used += size;
    res.add_txs(tx);
  }
  if (dropped_invalid + dropped_size > 0) {
    spdlog::info(
        "abci: PrepareProposal at height {}: kept {} txs, dropped {} failing CheckTx and {} over {} bytes",
        req.height(), res.txs_size(), dropped_invalid, dropped_size, req.max_tx_bytes());
  }
}

void AppHandler::process_proposal(const ab::RequestProcessProposal& req, ab::ResponseProcessProposal& res) {
  // Only reject what no honest proposer can produce: bytes that do not decode as a transaction. Everything
  // else is decided in FinalizeBlock (a failing tx gets a non-zero code and changes nothing).
  for (int i = 0; i < req.txs_size(); ++i) {
    auto decoded = common::tx::decode_tx(req.txs(i));
    if (!decoded) {
      spdlog::warn("abci: rejecting proposal {} at height {} from {}: tx {} does not decode: {}",
                   hex(req.hash()), req.height(), hex(req.proposer_address()), i, decoded.error().message);
      res.set_status(ab::ResponseProcessProposal::REJECT);
      return;
    }
  }
  res.set_status(ab::ResponseProcessProposal::ACCEPT);
}

std::optional<std::string> AppHandler::finalize_block(const ab::RequestFinalizeBlock& req,
                                                      ab::ResponseFinalizeBlock& res) {
  std::lock_guard lock(mu_);
  const uint64_t committed = app_.info().height;
  if (req.height() <= 0 || static_cast<uint64_t>(req.height()) != committed + 1) {
    return "FinalizeBlock for height " + std::to_string(req.height()) + " but the app has committed height " +
           std::to_string(committed) + " (expected " + std::to_string(committed + 1) +
           "); the app and CometBFT data directories do not belong together";
  }
  if (!app_.has_genesis()) return "FinalizeBlock before InitChain";

  FinalizedBlock block;
  block.info.chain_id = app_.chain_id();
  block.info.height = committed + 1;
  block.info.time_unix_ms = req.has_time() ? unix_ms(req.time()) : 0;
  if (committed > 0) block.info.last_block_hash = store_.get_aux(kLastBlockHashKey).value_or("");
  block.info.proposer = req.proposer_address();
  block.hash = req.hash();
  block.txs.assign(req.txs().begin(), req.txs().end());
  block.result = app_.finalize_block(block.info, block.txs);

  const auto& result = block.result;
  copy_events(result.events, res.mutable_events());
  for (const auto& r : result.tx_results) {
    auto* tr = res.add_tx_results();
    tr->set_code(r.code);
    tr->set_codespace(std::string(chain::codes::codespace_of(r.code)));
    tr->set_data(r.data);
    tr->set_log(safe_log(r.log));
    tr->set_gas_used(r.gas_used);
    copy_events(r.events, tr->mutable_events());
  }
  append_validator_updates(result.validator_updates, res);
  res.set_app_hash(result.app_hash);

  pending_aux_ = hooks_ ? hooks_->block_records(block) : chain::store::WriteSet{};
  pending_aux_.insert_or_assign(std::string(kLastBlockHashKey), block.hash);
  pending_ = std::move(block);
  return std::nullopt;
}

std::optional<std::string> AppHandler::commit(ab::ResponseCommit& res) {
  std::lock_guard lock(mu_);
  if (!pending_) return "Commit without a finalized block";
  auto info = app_.commit(pending_aux_);
  if (hooks_) hooks_->block_committed(*pending_, info);
  spdlog::debug("abci: committed height {} ({} txs), app hash {}", info.height, pending_->txs.size(),
                hex(info.app_hash));
  pending_.reset();
  pending_aux_.clear();
  res.set_retain_height(0);
  return std::nullopt;
}

}  // namespace node::abci
