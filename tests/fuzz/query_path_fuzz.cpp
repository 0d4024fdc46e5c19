// libFuzzer target for query paths with arbitrary bytes: the ABCI Query of CometBFT's abci_query (issue 13
// fault 1), App::query with the parameters the RPC would pass, and the HTTP layer's decoding of a request
// target. Input: byte 0 chooses the query height (0-3, the chain has heights 1 and 2; history 2), the rest is
// the path, optionally with "?key=value&..." as CometBFT and the RPC accept it. Properties (a violation
// aborts):
//   1. Nothing throws; Query over ABCI never answers with an exception.
//   2. The log is valid UTF-8; an answer with code 0 is JSON, and a non-zero code has a log.
//   3. An answer comes from a height the chain has; asked for height 1 or 2 by parameter, from exactly that
//   one.
//   4. The RPC's percent-decoding and its UTF-8 gate (src/net) decide the same way as the app's.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "chain/types/codes.h"
#include "common/json_text.h"
#include "fuzz_chain.h"
#include "net/uri.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  using fuzz::check;
  if (size == 0) return 0;
  const int64_t height = data[0] & 3;
  const std::string path(reinterpret_cast<const char*>(data) + 1, size - 1);
  auto& c = fuzz::chain();

  tendermint::abci::Request req;
  req.mutable_query()->set_path(path);
  req.mutable_query()->set_height(height);
  auto res = c.handle(req);
  check(!res.has_exception());
  check(res.has_query());
  const auto& q = res.query();
  check(common::is_valid_utf8(q.log()));
  if (q.code() == 0 && path.rfind("/p2p/filter/", 0) != 0) {
    check(!nlohmann::json::parse(q.value(), nullptr, false).is_discarded());
    check(q.height() == 1 || q.height() == 2);  // a height the chain has, never another one
  } else if (q.code() != 0) {
    check(!q.log().empty());
  }

  // As the RPC passes it: the decoded path and query parameters.
  const auto question = path.find('?');
  const std::string raw_path = path.substr(0, question);
  std::map<std::string, std::string> params;
  if (question != std::string::npos) params = net::parse_query(std::string_view(path).substr(question + 1));
  const std::string decoded = net::percent_decode(raw_path);
  uint64_t answered = 0;
  auto answer = c.app.query(decoded, params, &answered);
  if (answer) {
    check(common::json_dump(*answer).size() > 0);
    check(answered == 1 || answered == 2);
    auto h = params.find("height");
    if (h != params.end() && (h->second == "1" || h->second == "2"))
      check(answered == std::stoull(h->second));
  } else {
    check(answer.error().code != 0);
    common::json_dump(nlohmann::json(answer.error().message));  // must not throw
  }
  bool utf8 = common::is_valid_utf8(decoded);
  for (const auto& [k, v] : params) utf8 = utf8 && common::is_valid_utf8(k) && common::is_valid_utf8(v);
  if (!utf8) check(!answer && answer.error().code == chain::codes::kInvalidRequest);
  return 0;
}
