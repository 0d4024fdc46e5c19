// Epoch formation and ComputeNewWeights at scale (issue 5, must-show 4). Prints times, time per participant
// and the ratio of the 10k-participant run to the 1k one (linear growth = ratio close to 10); asserts
// nothing.
//   formation: N participants × 4 MLNodes × 5 models; their PoC batches and the genesis validator's
//   validations
//              go through the real message handlers; the timed part is the EndBlock at the end of PoC
//              validation (compute_new_weights from state, registry + hardware snapshot, parent + 5
//              sub-groups written), median of 5 runs, each on a fresh block branch over the same state.
//   weights:   the pure compute_new_weights over N × 4 nodes × 250 nonces (10M nonces at N = 10k), shuffled
//              with 1 % duplicates.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <vector>

#include "chain/app/context.h"
#include "chain/app/msg_router.h"
#include "chain/store/overlay.h"
#include "chain/store/rocksdb_store.h"
#include "chain/types/address.h"
#include "chain/x/epochs/epochs.h"
#include "chain/x/groups/groups.h"
#include "chain/x/models/models.h"
#include "chain/x/nodes/nodes.h"
#include "chain/x/poc/poc.h"
#include "chain/x/weights/weights.h"
#include "common/bytes.h"

namespace {
using Clock = std::chrono::steady_clock;
constexpr const char* kHrp = "gonka";
constexpr int kNodes = 4;
constexpr int kModels = 5;

struct TempDir {
  std::string path;
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "epochs-bench-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) {
      std::perror("mkdtemp");
      std::exit(1);
    }
    path = tmpl;
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

chain::types::Address address(uint32_t i, char tag) {
  chain::types::Address a(20, tag);
  std::string be = common::be64(i);
  a.replace(12, 8, be);
  return a;
}

void must(const common::Status& st, const char* what) {
  if (!st) {
    std::fprintf(stderr, "%s: %s\n", what, st.error().message.c_str());
    std::exit(1);
  }
}

constexpr int kRuns = 5;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

struct FormationResult {
  double formation_ms = 0;  // the whole EndBlock
  double weights_ms = 0;    // of which compute_new_weights from state
  double groups_ms = 0;     // and form_epoch_groups
  uint64_t members = 0;
};

FormationResult formation(uint32_t participants) {
  // As in the node: each block's writes are committed to RocksDB, and the formation runs on a fresh block
  // branch over the committed state.
  TempDir dir;
  chain::store::RocksDbStore base(dir.path);
  chain::store::Overlay state(base);
  auto commit = [&](uint64_t h) {
    base.commit(state.writes(), {h, std::string(32, 'a')}, {});
    state.clear();
  };
  std::vector<chain::types::Event> events;
  auto block = [](uint64_t h) { return chain::app::BlockInfo{"bench", h, 0, std::string(32, 'h'), ""}; };
  chain::app::BlockInfo b0 = block(0);
  std::string hrp = kHrp;
  chain::app::Context genesis(state, b0, hrp, events);
  chain::x::epochs::EpochsModule epochs;
  chain::x::poc::PocModule poc;
  chain::app::MsgRouter router;
  poc.register_messages(router);
  must(epochs.init_genesis(
           genesis,
           {{"epochs",
             {{"params", chain::x::epochs::params_to_json(chain::x::epochs::default_params("localnet"))}}}}),
       "genesis");
  auto validator = address(0, 'v');
  must(epochs.init_genesis_validators(
           genesis, {{"v", chain::types::to_bech32(kHrp, validator), std::string(32, 'k'), 1}}),
       "validators");
  std::vector<std::string> model_ids;
  for (int m = 0; m < kModels; ++m) {
    auto model = chain::x::models::genesis_models("localnet")[0];
    model.set_id("org/model-" + std::to_string(m));
    model.set_throughput_per_nonce(1000 * static_cast<uint64_t>(m + 1));
    chain::x::models::set_model(state, model);
    model_ids.push_back(model.id());
  }
  for (uint32_t i = 0; i < participants; ++i) {
    auto a = address(i, 'p');
    chain::x::nodes::Participant p;
    p.set_address(a);
    p.set_url("http://p" + std::to_string(i) + ".example");
    std::string key(32, 'q');
    key.replace(0, 8, common::be64(i));
    p.set_validator_public_key(key);
    chain::x::nodes::set_participant(state, p);
    chain::x::nodes::MsgSubmitHardwareDiff diff;
    for (int n = 0; n < kNodes; ++n) {
      auto* node = diff.add_new_or_modified();
      node->set_local_id("node-" + std::to_string(n));
      node->set_status(inference::inference::HARDWARE_NODE_STATUS_INFERENCE);
      node->add_models(model_ids[static_cast<size_t>((i + n) % kModels)]);
      node->add_models(model_ids[static_cast<size_t>((i + n + 1) % kModels)]);
      auto* hw = node->add_hardware();
      hw->set_type("NVIDIA H100 80GB");
      hw->set_count(1);
      node->set_host("10.0.0.1");
      node->set_inference_port(8080);
      node->set_poc_port(8081);
    }
    must(chain::x::nodes::apply_hardware_diff(genesis, a, diff), "hardware diff");
  }
  commit(0);
  std::vector<chain::app::ValidatorUpdate> updates;
  for (uint64_t h = 1; h <= 23; ++h) {
    chain::app::BlockInfo bi = block(h);
    chain::app::Context ctx(state, bi, hrp, events);
    if (h == 11) {
      for (uint32_t i = 0; i < participants; ++i) {
        auto a = address(i, 'p');
        for (int n = 0; n < kNodes; ++n) {
          chain::x::poc::MsgSubmitPocBatch msg;
          msg.set_creator(chain::types::to_bech32(kHrp, a));
          msg.set_node_id("node-" + std::to_string(n));
          msg.set_batch_id("b");
          for (uint64_t k = 0; k < 25; ++k) {
            msg.add_nonces(k * 7 + static_cast<uint64_t>(n));
            msg.add_dist(0.5);
          }
          must(router.find(chain::x::poc::kMsgSubmitPocBatchUrl)->execute(ctx, msg.SerializeAsString(), a),
               "batch");
        }
      }
    }
    if (h == 19) {
      for (uint32_t i = 0; i < participants; ++i) {
        chain::x::poc::MsgSubmitPocValidation msg;
        msg.set_creator(chain::types::to_bech32(kHrp, validator));
        msg.set_participant_address(chain::types::to_bech32(kHrp, address(i, 'p')));
        must(router.find(chain::x::poc::kMsgSubmitPocValidationUrl)
                 ->execute(ctx, msg.SerializeAsString(), validator),
             "validation");
      }
    }
    events.clear();
    if (h < 23) {
      epochs.end_block(ctx, updates);
      commit(h);
      continue;
    }
    // The EndBlock that forms the epoch, run kRuns times, each on a fresh block branch over the same state
    // (as a real block: its writes land in the block's overlay). Median of the runs; the branch is freed
    // outside the timed part, as a real block's overlay is freed after commit.
    std::vector<double> weights_ms, groups_ms, total_ms;
    uint64_t members = 0;
    for (int run = 0; run < kRuns; ++run) {
      {
        chain::store::Overlay branch(state);
        chain::app::Context bctx(branch, bi, hrp, events);
        auto t0 = Clock::now();
        auto w = chain::x::weights::compute_new_weights(branch, 1);
        weights_ms.push_back(ms_since(t0));
        t0 = Clock::now();
        bool carried = false;
        chain::x::groups::form_epoch_groups(bctx, 1, 10, 100, w, 0, carried);
        groups_ms.push_back(ms_since(t0));
        events.clear();
      }
      chain::store::Overlay branch(state);
      chain::app::Context bctx(branch, bi, hrp, events);
      auto t = Clock::now();
      epochs.end_block(bctx, updates);
      total_ms.push_back(ms_since(t));
      members = chain::x::groups::get_group(branch, 1, "")->member_count();
      events.clear();
    }
    return {median(total_ms), median(weights_ms), median(groups_ms), members};
  }
  return {};
}

double weights(uint32_t participants) {
  std::mt19937_64 rng(42);
  std::map<chain::types::Address, uint64_t> validators{{address(0, 'v'), 1}};
  std::vector<chain::x::weights::Candidate> candidates;
  candidates.reserve(participants);
  for (uint32_t i = 0; i < participants; ++i) {
    chain::x::weights::Candidate c{address(i, 'p'), {}, {{address(0, 'v'), false}}};
    for (int n = 0; n < kNodes; ++n) {
      chain::x::weights::NodeNonces nn{"node-" + std::to_string(n), {}};
      nn.nonces.reserve(250);
      for (uint64_t k = 0; k < 250; ++k)
        nn.nonces.push_back(k % 100 == 99 ? k - 1 : k * 1000 + (rng() % 1000));
      std::shuffle(nn.nonces.begin(), nn.nonces.end(), rng);
      c.nodes.push_back(std::move(nn));
    }
    candidates.push_back(std::move(c));
  }
  auto t = Clock::now();
  auto r = chain::x::weights::compute_new_weights(validators, candidates);
  double ms = ms_since(t);
  if (r.accepted.size() != participants)
    std::fprintf(stderr, "unexpected: %zu accepted\n", r.accepted.size());
  return ms;
}

}  // namespace

int main() {
  std::printf(
      "epoch formation: N participants x %d MLNodes x %d models (each node serves 2 models), EndBlock at end "
      "of validation\n",
      kNodes, kModels);
  FormationResult f1 = formation(1000);
  FormationResult f10 = formation(10000);
  for (auto [n, f] : {std::pair{1000, f1}, std::pair{10000, f10}}) {
    std::printf(
        "  N=%-6d formation %8.1f ms  (%.2f us/participant, %llu members; weights %.1f ms, groups %.1f ms)\n",
        n, f.formation_ms, f.formation_ms * 1000 / n, static_cast<unsigned long long>(f.members),
        f.weights_ms, f.groups_ms);
  }
  std::printf("  ratio 10k/1k = %.2f (linear = 10; target <= 12); target formation at 10k <= 200 ms\n",
              f10.formation_ms / f1.formation_ms);
  std::printf("compute_new_weights: N participants x %d nodes x 250 nonces (shuffled, 1%% duplicates)\n",
              kNodes);
  double w1 = weights(1000), w10 = weights(10000);
  std::printf("  N=1000   (1M nonces)  %8.1f ms  (%.2f us/participant)\n", w1, w1 * 1000 / 1000);
  std::printf("  N=10000  (10M nonces) %8.1f ms  (%.2f us/participant)\n", w10, w10 * 1000 / 10000);
  std::printf("  ratio 10k/1k = %.2f (target <= 12)\n", w10 / w1);
  return 0;
}
