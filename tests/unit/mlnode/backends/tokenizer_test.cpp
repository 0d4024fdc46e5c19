#include "mlnode/backends/tokenizer.h"

#include <gtest/gtest.h>

namespace mlnode::backends {
namespace {

TEST(Tokenizer, SplitsWordsWithTheirLeadingSpaceAndPunctuationAlone) {
  const auto t = tokenize_text("Hello world, abcdefghijk!");
  const std::vector<std::string> expected = {"Hello", " world", ",", " abcdefgh", "ijk", "!"};
  EXPECT_EQ(t, expected);
}

TEST(Tokenizer, ConcatenationOfPiecesIsTheText) {
  const std::string text = "  multi  spaces\n\tand ünïcode 123";
  std::string joined;
  for (const auto& p : tokenize_text(text)) joined += p;
  EXPECT_EQ(joined, text);
  EXPECT_TRUE(tokenize_text("").empty());
}

TEST(Tokenizer, TokenIdsAreStableAndInRange) {
  EXPECT_EQ(token_id(" world"), token_id(" world"));
  EXPECT_NE(token_id(" world"), token_id("world"));
  EXPECT_LT(token_id("x"), kVocabSize);
}

TEST(Tokenizer, ChatTemplateMarksRolesAndTheAssistantTurn) {
  EXPECT_EQ(render_chat({{"system", "be brief"}, {"user", "hi"}}), "<|system|>\nbe brief\n<|user|>\nhi\n<|assistant|>\n");
}

}  // namespace
}  // namespace mlnode::backends
