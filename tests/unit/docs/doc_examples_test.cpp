// The examples of docs/configuration.md are parsed by the code that reads them in production: dapi's config
// parser and the chain's model JSON and validation. An example the code would refuse fails here, so the
// documentation cannot show keys or values that do not work. Examples are the fenced blocks right after a
// line
// `<!-- example: KIND -->`.
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "api/config/config.h"
#include "chain/x/models/models.h"

namespace {

const std::string kDoc = std::string(INFERENCE_SOURCE_DIR) + "/docs/configuration.md";
constexpr const char* kHrp = "gonka";
constexpr const char* kProposer = "gonka1puq2t8vmnsdc9t8af8x25ay76n3tq3rx3nk5sj";

struct Example {
  int line = 0;  // line of the opening fence
  std::string text;
};

// The fenced blocks that follow `<!-- example: kind -->` (blank lines in between allowed).
std::vector<Example> examples(const std::string& kind) {
  std::ifstream in(kDoc);
  EXPECT_TRUE(in) << "cannot read " << kDoc;
  std::vector<Example> out;
  std::string line;
  const std::string marker = "<!-- example: " + kind + " -->";
  bool armed = false, inside = false;
  int n = 0;
  Example current;
  while (std::getline(in, line)) {
    ++n;
    if (inside) {
      if (line.rfind("```", 0) == 0) {
        out.push_back(current);
        inside = false;
      } else {
        current.text += line + "\n";
      }
    } else if (line == marker) {
      armed = true;
    } else if (armed && line.rfind("```", 0) == 0) {
      current = Example{n, ""};
      inside = true;
      armed = false;
    } else if (armed && !line.empty()) {
      armed = false;  // the marker was not followed by a block
    }
  }
  return out;
}

common::Status valid_model(nlohmann::json j, const std::string& default_proposer) {
  auto model = chain::x::models::model_from_json(j);
  if (!model) return model.error();
  if (model->proposed_by().empty()) model->set_proposed_by(default_proposer);
  return chain::x::models::validate_model(*model, kHrp);
}

TEST(DocExamples, EveryDapiConfigExampleIsAcceptedByTheConfigParser) {
  auto blocks = examples("dapi-config");
  ASSERT_GE(blocks.size(), 2u) << "docs/configuration.md lost its dapi config examples";
  size_t nodes = 0;
  for (const auto& b : blocks) {
    auto c = api::config::parse(b.text, "/home/op/.dapi");
    ASSERT_TRUE(c) << "configuration.md:" << b.line << ": " << c.error().message;
    EXPECT_FALSE(c->admin_token.empty()) << "configuration.md:" << b.line;
    EXPECT_FALSE(c->nodes.empty()) << "configuration.md:" << b.line;
    nodes += c->nodes.size();
  }
  EXPECT_GE(nodes, 4u) << "the examples should show several nodes";
}

TEST(DocExamples, TheFullDapiExampleSetsEveryTopLevelKeyAndSeveralModels) {
  auto blocks = examples("dapi-config");
  ASSERT_GE(blocks.size(), 2u);
  const auto& full = blocks.back();
  const std::string text = "\n" + full.text;
  for (const char* key : {"chain_node:", "key:", "public_url:", "servers:", "admin:", "api_keys:",
                          "state_dir:", "log_level:", "timing:", "poc:", "inference:", "nodes:"}) {
    EXPECT_NE(text.find(std::string("\n") + key), std::string::npos) << "full example lacks " << key;
  }
  auto c = api::config::parse(full.text, "/home/op/.dapi");
  ASSERT_TRUE(c) << c.error().message;
  size_t multi_model_nodes = 0;
  for (const auto& n : c->nodes) multi_model_nodes += n.models.size() > 1 ? 1 : 0;
  EXPECT_GE(multi_model_nodes, 2u);
  EXPECT_EQ(c->callback_url, "http://10.0.0.5:9100");
  EXPECT_EQ(c->mlnode_hop.total_ms, 600000u);
}

TEST(DocExamples, AMistypedKeyInAnExampleWouldBeCaught) {
  auto blocks = examples("dapi-config");
  ASSERT_FALSE(blocks.empty());
  std::string broken = blocks.front().text;
  auto at = broken.find("public_url:");
  ASSERT_NE(at, std::string::npos);
  broken.replace(at, 11, "publik_url:");
  EXPECT_FALSE(api::config::parse(broken, "/home/op/.dapi"));
}

TEST(DocExamples, GenesisModelExamplesHaveEverySeedFieldAndAreValid) {
  auto blocks = examples("genesis-models");
  ASSERT_EQ(blocks.size(), 1u);
  auto doc = nlohmann::json::parse(blocks[0].text);
  ASSERT_TRUE(doc.contains("models"));
  ASSERT_GE(doc["models"].size(), 2u);
  for (const auto& m : doc["models"]) {
    auto st = valid_model(m, std::string(chain::x::models::kGenesisProposer));
    EXPECT_TRUE(st) << m.value("id", "?") << ": " << st.error().message;
    for (const char* field :
         {"id", "units_of_compute_per_token", "context_window", "quantization", "hf_repo", "hf_commit",
          "model_args", "v_ram", "throughput_per_nonce", "validation_threshold"}) {
      EXPECT_TRUE(m.contains(field)) << m.value("id", "?") << " lacks " << field;
    }
  }
}

TEST(DocExamples, TheGovernanceModelFileIsAValidModel) {
  auto blocks = examples("model");
  ASSERT_EQ(blocks.size(), 1u);
  auto st = valid_model(nlohmann::json::parse(blocks[0].text), kProposer);
  EXPECT_TRUE(st) << st.error().message;
}

}  // namespace
