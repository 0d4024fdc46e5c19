// libFuzzer target for transaction decoding and CheckTx (src/common/tx, chain::app::App::check_tx, ABCI
// CheckTx). Input: the tx bytes as a stranger sends them. Properties (a violation aborts, which libFuzzer
// reports as a crash):
//   1. Nothing throws; CheckTx over ABCI never answers with an exception (that would stop the node).
//   2. A tx that decodes is canonically encoded: re-encoding the envelope and the body gives the input bytes
//      (issue 13 fault 6), so no two accepted byte strings carry the same content.
//   3. Every answer's log is valid UTF-8 and a non-zero code comes with a log.
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/json_text.h"
#include "common/tx/tx_codec.h"
#include "fuzz_chain.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  using fuzz::check;
  const std::string bytes(reinterpret_cast<const char*>(data), size);

  auto decoded = common::tx::decode_tx(bytes);
  if (decoded) {
    check(decoded->tx.SerializeAsString() == bytes);
    check(decoded->body.SerializeAsString() == decoded->tx.body());
    check(decoded->body.messages_size() > 0);
  } else {
    check(decoded.error().code != 0 && !decoded.error().message.empty());
  }

  tendermint::abci::Request req;
  req.mutable_check_tx()->set_tx(bytes);
  auto res = fuzz::chain().handle(req);
  check(!res.has_exception());
  check(res.has_check_tx());
  check(common::is_valid_utf8(res.check_tx().log()));
  if (res.check_tx().code() != 0) check(!res.check_tx().log().empty());
  if (!decoded) check(res.check_tx().code() != 0);
  return 0;
}
