#include "api/epoch/model_args.h"

#include <gtest/gtest.h>

namespace api::epoch {
namespace {

using Args = std::vector<std::string>;

struct Case {
  const char* name;
  Args epoch;
  Args local;
  Args want;
};

TEST(MergeModelArgs, Table) {
  const std::vector<Case> cases = {
      {"both empty", {}, {}, {}},
      {"epoch only", {"--quantization", "fp8"}, {}, {"--quantization", "fp8"}},
      {"local only adds", {}, {"--gpu-memory-utilization", "0.9"}, {"--gpu-memory-utilization", "0.9"}},
      {"local adds a new flag after epoch",
       {"--quantization", "fp8"},
       {"--max-model-len", "4096"},
       {"--quantization", "fp8", "--max-model-len", "4096"}},
      {"conflict: epoch wins (space form)",
       {"--quantization", "fp8"},
       {"--quantization", "int4", "--tp", "2"},
       {"--quantization", "fp8", "--tp", "2"}},
      {"conflict: epoch --k=v beats local --k v",
       {"--quantization=fp8"},
       {"--quantization", "int4"},
       {"--quantization=fp8"}},
      {"conflict: epoch --k v beats local --k=v",
       {"--quantization", "fp8"},
       {"--quantization=int4", "--seed=3"},
       {"--quantization", "fp8", "--seed=3"}},
      {"boolean flags: epoch flag without value, local flag kept",
       {"--enforce-eager", "--dtype", "half"},
       {"--enforce-eager", "--trust-remote-code"},
       {"--enforce-eager", "--dtype", "half", "--trust-remote-code"}},
      {"negative number is a value",
       {"--offset", "-1"},
       {"--offset", "-2", "--x", "-3"},
       {"--offset", "-1", "--x", "-3"}},
      {"stray epoch value kept, stray local value dropped",
       {"model.bin", "--a", "1"},
       {"junk", "--b", "2"},
       {"model.bin", "--a", "1", "--b", "2"}},
      {"short key with value", {"-tp", "2"}, {"-tp", "4", "-pp", "1"}, {"-tp", "2", "-pp", "1"}},
      {"repeated local keys kept in order",
       {},
       {"--lora", "a", "--lora", "b"},
       {"--lora", "a", "--lora", "b"}},
      {"empty value after =", {"--k="}, {"--k", "v"}, {"--k="}},
      {"flag followed by flag takes no value", {"--a", "--b", "1"}, {"--a", "5"}, {"--a", "--b", "1"}},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(merge_model_args(c.epoch, c.local), c.want) << c.name;
  }
}

TEST(MergeModelArgs, EpochOrderAndFormArePreserved) {
  Args epoch = {"--b=2", "--a", "1"};
  EXPECT_EQ(merge_model_args(epoch, {"--c", "3", "--b", "9"}), (Args{"--b=2", "--a", "1", "--c", "3"}));
}

}  // namespace
}  // namespace api::epoch
