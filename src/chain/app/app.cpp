#include "chain/app/app.h"

#include <charconv>
#include <cstdint>

#include "chain/store/app_hash.h"
#include "chain/types/codes.h"
#include "chain/x/auth/auth.h"
#include "chain/x/bank/bank.h"
#include "chain/x/epochs/epochs.h"
#include "chain/x/gov/gov.h"
#include "chain/x/groups/groups.h"
#include "chain/x/inference/inference.h"
#include "chain/x/models/models.h"
#include "chain/x/nodes/nodes.h"
#include "chain/x/poc/poc.h"
#include "chain/x/schedule/schedule.h"
#include "chain/x/settle/settle.h"
#include "chain/x/upgrade/upgrade.h"
#include "common/bytes.h"
#include "common/events.h"
#include "common/hash.h"
#include "common/json_text.h"

namespace chain::app {

namespace {
constexpr std::string_view kKeyChainId = "app/chain_id";
constexpr std::string_view kKeyHrp = "app/address_prefix";
constexpr std::string_view kKeyMaxTxBytes = "app/max_tx_bytes";
constexpr size_t kMaxVerifiedMemo = 200000;

// A height as a stranger writes it: 1 to 20 decimal digits that fit in 64 bits.
std::optional<uint64_t> parse_height(const std::string& text) {
  if (text.empty() || text.size() > 20 || text.find_first_not_of("0123456789") != std::string::npos) {
    return std::nullopt;
  }
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || end != text.data() + text.size())
    return std::nullopt;  // out of range: above 2^64-1
  return v;
}

TxOutcome failure(const common::Error& e) {
  TxOutcome out;
  out.code = e.code;
  out.log = e.message;
  return out;
}
}  // namespace

App::App(store::CommitStore& store) : store_(store) {
  modules_.push_back(std::make_unique<x::auth::AuthModule>());
  modules_.push_back(std::make_unique<x::bank::BankModule>());
  modules_.push_back(std::make_unique<x::models::ModelsModule>());
  modules_.push_back(std::make_unique<x::nodes::NodesModule>());  // genesis nodes are checked against models
  // Inference accounting (escrow, payment, expiry refunds in its EndBlock).
  modules_.push_back(std::make_unique<x::infer::InferenceModule>());
  // Pre-PoC selection at P-1 and real throughput at the end of PoC validation: before epochs forms the group.
  modules_.push_back(std::make_unique<x::schedule::ScheduleModule>());
  // Epoch stage machine (PoC start, weights + group formation, epoch switch) runs in its EndBlock.
  modules_.push_back(std::make_unique<x::epochs::EpochsModule>());
  modules_.push_back(std::make_unique<x::poc::PocModule>());
  modules_.push_back(std::make_unique<x::groups::GroupsModule>());
  // Rewards of the finished epoch at the settlement stage (after the epoch switch in the epochs EndBlock).
  modules_.push_back(std::make_unique<x::settle::SettleModule>());
  // MLNode version switch at the upgrade height; before gov, so an upgrade executed this block never applies
  // in it.
  modules_.push_back(std::make_unique<x::upgrade::UpgradeModule>());
  // Last: its EndBlock executes passed proposals through the router, after the other modules' EndBlock.
  modules_.push_back(std::make_unique<x::gov::GovModule>(messages_));
  for (auto& m : modules_) {
    m->register_messages(messages_);
    m->register_queries(queries_);
  }
  load_params();
  check_ = std::make_unique<store::Overlay>(store_);
}

App::~App() = default;

void App::load_params() {
  if (auto v = store_.get(kKeyChainId)) chain_id_ = *v;
  if (auto v = store_.get(kKeyHrp)) hrp_ = *v;
  if (auto v = store_.get(kKeyMaxTxBytes); v && v->size() == 8) max_tx_bytes_ = common::get_be64(*v);
}

nlohmann::json App::default_app_state(std::string_view preset) const {
  nlohmann::json state = nlohmann::json::object();
  for (const auto& m : modules_) {
    auto section = m->default_genesis(preset);
    if (!section.is_null()) state[std::string(m->name())] = std::move(section);
  }
  return state;
}

const store::KvReader& App::pending_base() const {
  if (genesis_) return *genesis_;
  return store_;
}

common::Result<std::string> App::init_chain(const Genesis& genesis) {
  if (store_.last_commit().height != 0) {
    return common::make_error(codes::kInvalidRequest, "init_chain called on a chain that already has blocks");
  }
  // A section for a module this chain does not have is a mistake (a misspelled module name), not something to
  // skip.
  if (!genesis.app_state.is_object())
    return common::make_error(codes::kInvalidRequest, "genesis app_state must be an object");
  for (const auto& [section, value] : genesis.app_state.items()) {
    bool known = false;
    for (const auto& m : modules_) known = known || m->name() == section;
    if (!known) {
      std::string names;
      for (const auto& m : modules_) names += (names.empty() ? "" : ", ") + std::string(m->name());
      return common::make_error(codes::kInvalidRequest, "genesis app_state has a section \"" +
                                                            common::printable(section, 64) +
                                                            "\" for no module; the modules are " + names);
    }
  }
  auto overlay = std::make_unique<store::Overlay>(store_);
  overlay->set(kKeyChainId, genesis.chain_id);
  overlay->set(kKeyHrp, genesis.address_prefix);
  overlay->set(kKeyMaxTxBytes, common::be64(genesis.max_tx_bytes));
  BlockInfo block{genesis.chain_id, 0, genesis.genesis_time_unix_ms, "", ""};
  std::vector<types::Event> events;
  Context ctx(*overlay, block, genesis.address_prefix, events);
  try {
    for (auto& m : modules_) TRY_STATUS(m->init_genesis(ctx, genesis.app_state));
    for (auto& m : modules_) TRY_STATUS(m->init_genesis_validators(ctx, genesis.validators));
  } catch (const nlohmann::json::exception& e) {
    return common::make_error(codes::kInvalidRequest, std::string("invalid genesis app_state: ") + e.what());
  }
  chain_id_ = genesis.chain_id;
  hrp_ = genesis.address_prefix;
  max_tx_bytes_ = genesis.max_tx_bytes;
  genesis_app_hash_ = store::next_app_hash("", store::write_set_hash(overlay->writes()));
  genesis_ = std::move(overlay);
  check_ = std::make_unique<store::Overlay>(*genesis_);
  pending_bytes_.clear();
  return genesis_app_hash_;
}

common::Result<common::tx::DecodedTx> App::decode_and_check(std::string_view tx_bytes) const {
  if (tx_bytes.size() > max_tx_bytes_) {
    return common::make_error(codes::kTxTooLarge, "tx too large: " + std::to_string(tx_bytes.size()) +
                                                      " bytes, the limit is " +
                                                      std::to_string(max_tx_bytes_));
  }
  auto decoded = common::tx::decode_tx(tx_bytes);
  if (!decoded) return decoded.error();
  types::Address signer = types::address_from_public_key(decoded->tx.auth_info().public_key());
  for (int i = 0; i < decoded->body.messages_size(); ++i) {
    const auto& any = decoded->body.messages(i);
    const MsgHandler* handler = messages_.find(any.type_url());
    if (!handler) {
      return common::make_error(codes::kUnknownRequest,
                                "message " + std::to_string(i) + ": unknown type \"" + any.type_url() + "\"");
    }
    auto st = handler->check(any.value(), signer, hrp_);
    if (!st)
      return common::make_error(st.error().code, "message " + std::to_string(i) + ": " + st.error().message);
  }
  return decoded;
}

bool App::verify_signature_cached(std::string_view tx_bytes, const std::string& public_key,
                                  const std::string& hash, const std::string& signature) {
  std::string memo_key = common::sha256(tx_bytes);
  if (verified_.count(memo_key)) return true;
  if (!common::secp256k1::verify(public_key, hash, signature)) return false;
  if (verified_.size() >= kMaxVerifiedMemo) verified_.clear();
  verified_.insert(std::move(memo_key));
  return true;
}

common::Result<App::Ante> App::ante(store::KvStore& state, std::string_view tx_bytes, uint64_t height,
                                    const common::tx::DecodedTx& decoded) {
  const auto& auth = decoded.tx.auth_info();
  Ante a{types::address_from_public_key(auth.public_key()), auth.sequence(), auth.public_key()};
  std::string signer_text = types::to_bech32(hrp_, a.signer);
  if (decoded.body.timeout_height() != 0 && height > decoded.body.timeout_height()) {
    return common::make_error(codes::kTxTimeoutHeight, "tx timed out: timeout_height " +
                                                           std::to_string(decoded.body.timeout_height()) +
                                                           " < block height " + std::to_string(height));
  }
  auto account = x::auth::get_account(state, a.signer);
  if (!account) {
    return common::make_error(
        codes::kUnknownAddress,
        "account " + signer_text + " does not exist; send it some nicoin before it signs");
  }
  if (!account->public_key().empty() && account->public_key() != auth.public_key()) {
    return common::make_error(codes::kInvalidPubKey, "public key does not match account " + signer_text);
  }
  if (auth.sequence() != account->sequence()) {
    return common::make_error(codes::kWrongSequence, "account sequence mismatch for " + signer_text +
                                                         ": expected " + std::to_string(account->sequence()) +
                                                         ", got " + std::to_string(auth.sequence()));
  }
  if (!verify_signature_cached(tx_bytes, auth.public_key(),
                               common::tx::sign_hash(chain_id_, decoded.tx.body(), auth.sequence()),
                               decoded.tx.signature())) {
    return common::make_error(codes::kUnauthorized, "signature verification failed for " + signer_text +
                                                        " (wrong key or chain id \"" + chain_id_ + "\"?)");
  }
  account->set_public_key(auth.public_key());
  account->set_sequence(account->sequence() + 1);
  x::auth::set_account(state, a.signer, *account);
  return a;
}

TxOutcome App::check_tx(std::string_view tx_bytes) {
  if (!has_genesis()) return failure({codes::kInvalidRequest, "chain has no genesis yet"});
  auto decoded = decode_and_check(tx_bytes);
  if (!decoded) return failure(decoded.error());
  uint64_t next_height = (block_ ? block_height_ : store_.last_commit().height) + 1;
  // The sender's share of the mempool: txs it has waiting = its mempool-view sequence minus its committed
  // one.
  const types::Address sender = types::address_from_public_key(decoded->tx.auth_info().public_key());
  if (auto in_view = x::auth::get_account(*check_, sender)) {
    auto committed = x::auth::get_account(pending_base(), sender);
    const uint64_t waiting = in_view->sequence() - (committed ? committed->sequence() : 0);
    const uint64_t bytes = pending_bytes_.count(sender) ? pending_bytes_.at(sender) : 0;
    if (waiting >= mempool_limits_.max_txs_per_sender ||
        bytes + tx_bytes.size() > mempool_limits_.max_bytes_per_sender) {
      return failure({codes::kMempoolFull, "sender " + types::to_bech32(hrp_, sender) + " already has " +
                                               std::to_string(waiting) + " txs (" + std::to_string(bytes) +
                                               " bytes) waiting for a block; the limit per sender is " +
                                               std::to_string(mempool_limits_.max_txs_per_sender) +
                                               " txs and " +
                                               std::to_string(mempool_limits_.max_bytes_per_sender) +
                                               " bytes: send more after the next block"});
    }
  }
  auto a = ante(*check_, tx_bytes, next_height, *decoded);
  if (!a) return failure(a.error());
  pending_bytes_[sender] += tx_bytes.size();
  TxOutcome out;
  out.signer = types::to_bech32(hrp_, a->signer);
  out.sequence = a->sequence;
  return out;
}

TxOutcome App::deliver_tx(const BlockInfo& block, std::string_view tx_bytes) {
  auto decoded = decode_and_check(tx_bytes);
  if (!decoded) return failure(decoded.error());
  store::Overlay ante_branch(*block_);
  auto a = ante(ante_branch, tx_bytes, block.height, *decoded);
  if (!a) return failure(a.error());

  TxOutcome out;
  out.signer = types::to_bech32(hrp_, a->signer);
  out.sequence = a->sequence;
  std::vector<types::Event> events;
  store::Overlay msg_branch(ante_branch);
  Context ctx(msg_branch, block, hrp_, events);
  for (int i = 0; i < decoded->body.messages_size(); ++i) {
    const auto& any = decoded->body.messages(i);
    auto st = messages_.find(any.type_url())->execute(ctx, any.value(), a->signer);
    if (!st) {
      // The sequence is consumed (so the tx cannot be replayed later) but no message effect is kept.
      ante_branch.write_to(*block_);
      out.code = st.error().code;
      out.log = "message " + std::to_string(i) + " (" + any.type_url() + "): " + st.error().message;
      return out;
    }
  }
  msg_branch.write_to(ante_branch);
  ante_branch.write_to(*block_);
  out.events = std::move(events);
  out.events.insert(out.events.begin(), types::Event{common::events::kTx,
                                                     {{"hash", common::tx::tx_hash_hex(tx_bytes)},
                                                      {"signer", out.signer},
                                                      {"sequence", std::to_string(out.sequence)}}});
  return out;
}

FinalizeResult App::finalize_block(const BlockInfo& block, const std::vector<std::string>& txs) {
  if (!has_genesis()) throw std::logic_error("finalize_block before init_chain");
  uint64_t expected = store_.last_commit().height + 1;
  if (block.height != expected) {
    throw std::logic_error("finalize_block at height " + std::to_string(block.height) + ", expected " +
                           std::to_string(expected));
  }
  block_ = std::make_unique<store::Overlay>(pending_base());
  block_height_ = block.height;
  FinalizeResult result;
  Context ctx(*block_, block, hrp_, result.events);
  for (auto& m : modules_) m->begin_block(ctx);
  result.tx_results.reserve(txs.size());
  for (const auto& tx : txs) result.tx_results.push_back(deliver_tx(block, tx));
  for (auto& m : modules_) m->end_block(ctx, result.validator_updates);
  std::string previous = genesis_ ? genesis_app_hash_ : store_.last_commit().app_hash;
  block_app_hash_ = store::next_app_hash(previous, store::write_set_hash(block_->writes()));
  result.app_hash = block_app_hash_;
  return result;
}

store::CommitInfo App::commit(const store::WriteSet& aux) {
  if (!block_) throw std::logic_error("commit without a finalized block");
  store::CommitInfo info{block_height_, block_app_hash_};
  if (genesis_) {
    block_->write_to(*genesis_);  // the first block commits together with the genesis state
    store_.commit(genesis_->writes(), info, aux);
  } else {
    store_.commit(block_->writes(), info, aux);
  }
  block_.reset();
  genesis_.reset();
  check_ = std::make_unique<store::Overlay>(store_);
  pending_bytes_.clear();
  return info;
}

common::Result<nlohmann::json> App::query(const std::string& path, std::map<std::string, std::string> params,
                                          uint64_t* answered_height) const {
  // Paths and parameters are text a stranger chose: refuse bytes that are not UTF-8 before any handler can
  // echo them into JSON (issue 13 fault 1).
  if (!common::is_valid_utf8(path)) {
    return common::make_error(codes::kInvalidRequest, "query path is not UTF-8: " + common::printable(path));
  }
  for (const auto& [key, value] : params) {
    if (!common::is_valid_utf8(key) || !common::is_valid_utf8(value)) {
      return common::make_error(codes::kInvalidRequest, "query parameter " + common::printable(key) + "=" +
                                                            common::printable(value) + " is not UTF-8");
    }
  }
  const QueryHandler* handler = queries_.match(path, params);
  if (!handler)
    return common::make_error(codes::kUnknownRequest, "unknown query path " + common::printable(path));
  // "height" names the committed state to answer from (absent or 0: the latest). A height this node does not
  // keep is refused with the range it keeps; the answer is never taken from another height (issue 13 fault
  // 9).
  uint64_t asked = 0;
  if (auto it = params.find("height"); it != params.end()) {
    auto h = parse_height(it->second);
    if (!h) {
      return common::make_error(
          codes::kInvalidHeight,
          "height must be a non-negative decimal integer, got \"" + common::printable(it->second) + "\"");
    }
    asked = *h;
  }
  auto view = store_.state_at(asked);
  if (!view) {
    const uint64_t latest = store_.last_commit().height;
    if (asked > latest) {
      return common::make_error(codes::kInvalidHeight, "height " + std::to_string(asked) +
                                                           " is not committed yet; the latest height is " +
                                                           std::to_string(latest));
    }
    return common::make_error(codes::kInvalidHeight, "the state at height " + std::to_string(asked) +
                                                         " is not kept by this node; it answers heights " +
                                                         std::to_string(store_.oldest_kept_height()) +
                                                         " to " + std::to_string(latest) +
                                                         " (inferenced start --query-history-blocks)");
  }
  // Height-dependent answers (the epoch phase) use the height answered.
  params["height"] = std::to_string(view->height);
  if (answered_height) *answered_height = view->height;
  QueryRequest req{*view->reader, hrp_, std::move(params)};
  try {
    return (*handler)(req);
  } catch (const std::exception& e) {
    return common::make_error(codes::kInvalidRequest, std::string("query failed: ") + e.what());
  }
}

}  // namespace chain::app
