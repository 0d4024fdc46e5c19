// docs/errors.md's table of result codes against common::tx::codes::kAll, in both directions: every constant
// has its row (same code, codespace and name) and every row names a constant. So the documentation of the
// codes clients match on cannot drift from what the chain sets.
#include "common/tx/codes.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace codes = common::tx::codes;

struct Row {
  std::string codespace;
  std::string name;
};

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" `");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" `");
  return s.substr(b, e - b + 1);
}

// Rows "| <number> | <codespace> | `<name>` | ..." of the file.
std::map<uint32_t, Row> table_rows(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << "cannot read " << path;
  std::map<uint32_t, Row> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("| ", 0) != 0) continue;
    std::vector<std::string> cells;
    std::stringstream ss(line.substr(1));
    std::string cell;
    while (std::getline(ss, cell, '|')) cells.push_back(trim(cell));
    if (cells.size() < 3 || cells[0].empty() || cells[0].find_first_not_of("0123456789") != std::string::npos)
      continue;
    const auto code = static_cast<uint32_t>(std::stoul(cells[0]));
    EXPECT_FALSE(out.count(code)) << "code " << code << " has two rows";
    out[code] = Row{cells[1], cells[2]};
  }
  return out;
}

TEST(CodesDoc, TableMatchesTheConstants) {
  const auto rows = table_rows(std::string(INFERENCE_SOURCE_DIR) + "/docs/errors.md");
  ASSERT_FALSE(rows.empty());
  for (const auto& c : codes::kAll) {
    auto it = rows.find(c.code);
    ASSERT_NE(it, rows.end()) << "docs/errors.md has no row for " << c.name << " = " << c.code;
    EXPECT_EQ(it->second.name, c.name) << "code " << c.code;
    EXPECT_EQ(it->second.codespace, codes::codespace_of(c.code)) << c.name;
  }
  for (const auto& [code, row] : rows) {
    EXPECT_EQ(codes::name_of(code), row.name) << "docs/errors.md documents code " << code << " (" << row.name
                                              << ") that src/common/tx/codes.h does not define";
  }
}

TEST(Codes, EachKindHasItsOwnCodeAndTheRightCodespace) {
  std::set<uint32_t> seen;
  std::set<std::string_view> names;
  for (const auto& c : codes::kAll) {
    EXPECT_TRUE(seen.insert(c.code).second) << "code " << c.code << " is used twice";
    EXPECT_TRUE(names.insert(c.name).second) << c.name;
    if (c.code == codes::kOk) continue;
    EXPECT_EQ(codes::codespace_of(c.code), c.code < 1000 ? codes::kCodespaceSdk : codes::kCodespaceInference)
        << c.name;
    EXPECT_TRUE(c.code < 100 || (c.code >= 1000 && c.code < 1000000))
        << c.name << " outside the chain's ranges";
  }
  EXPECT_EQ(codes::codespace_of(codes::kPocBatchWindowClosed), "inference");
  EXPECT_EQ(codes::codespace_of(codes::kWrongSequence), "sdk");
  EXPECT_EQ(codes::codespace_of(codes::kOk), "");
  EXPECT_EQ(codes::name_of(codes::kPocBatchAlreadySubmitted), "kPocBatchAlreadySubmitted");
  EXPECT_EQ(codes::name_of(999), "");
}

}  // namespace
