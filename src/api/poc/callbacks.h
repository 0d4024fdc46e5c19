// MLNode PoC callbacks (issue 11 item 7; ARCHITECTURE §9): POST /v1/poc-batches/generated and /validated
// bodies are validated and turned into MsgSubmitPocBatch (with node_id) / MsgSubmitPocValidation. A callback
// is acknowledged only once its message is durably queued (PocSink); anything malformed gets a 4xx and
// nothing is queued. The body is validated first, then its timing, so a malformed callback gets the same
// answer whenever it comes. Status codes (common::Error::code of the parse functions, the HTTP status of the
// reply) and what the MLNode does with them (src/mlnode/poc/poc_service.h, docs/dapi.md "MLNode callbacks"):
//   400 not JSON / a field missing or of the wrong type / nonces and dist of different lengths / bad values
//   403 the batch's public_key is not this participant's (generated) — a foreign key
//   404 the node index names none of our nodes in this PoC
//   409 no PoC known yet, or the batch belongs to a PoC later than the current one: retried by the MLNode
//   410 refused for good, never queued, and the MLNode drops it without retrying: the batch belongs to an
//       earlier PoC, or its window closed (generated: the chain accepts batches only up to poc_exchange_end;
//       validated: verdicts only up to validation_end)
//   413 body larger than max_body_bytes, or more than kMaxNoncesPerBatch nonces
//   503 (reply only) the sink could not queue it durably: the MLNode retries later
// Every status but 2xx and 410 is retried by the MLNode at its next send tick until its PoC stage changes.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "api/poc/messages.h"
#include "api/poc/node_index.h"
#include "common/result.h"

namespace api::poc {

inline constexpr size_t kDefaultMaxCallbackBytes = 8 * 1024 * 1024;  // 100000 nonces + dists fit with room

struct GeneratedContext {
  std::string creator;         // our address
  std::string public_key_hex;  // poc_public_key_hex of our account key: the only key our nodes mine with
  PocAssignment assignment;    // of the current PoC (its poc_start_height is the only accepted block_height);
                               // poc_start_height 0 = no PoC known yet (409 after the body checks)
  size_t max_body_bytes = kDefaultMaxCallbackBytes;
  size_t max_nonces_per_message = kDefaultMaxNoncesPerMessage;  // the epoch's max_nonces_per_batch when known
  uint64_t height = 0;                                          // the last block dapi followed
  uint64_t batch_window_end = 0;  // the PoC's poc_exchange_end: a batch can land only in a block <= it, so
                                  // at height >= batch_window_end the window is closed (410); 0 = unknown
};

struct ValidatedContext {
  std::string creator;            // our address (the validator)
  std::string hrp;                // address prefix of the chain (address_hrp(creator))
  uint64_t poc_start_height = 0;  // the PoC being validated; 0 = none known yet (409 after the body checks)
  size_t max_body_bytes = kDefaultMaxCallbackBytes;
  uint64_t height = 0;          // the last block dapi followed
  uint64_t validation_end = 0;  // that PoC's validation_end: closed at height >= it (410); 0 = unknown
};

// POST /v1/poc-batches/generated -> MsgSubmitPocBatch {creator, P, batch_id = poc_batch_id(...), nonces,
// dist, node_id = the local id of the node index the MLNode reports}.
common::Result<SubmitPocBatch> parse_generated_callback(std::string_view body, const GeneratedContext& ctx);

// POST /v1/poc-batches/validated -> MsgSubmitPocValidation {creator, participant = address of the batch's
// public_key, P, fraud_detected, n_invalid, sample_size = number of nonces}.
common::Result<SubmitPocValidation> parse_validated_callback(std::string_view body,
                                                             const ValidatedContext& ctx);

// "Durably queue this message" — implemented by dapi's state store (dapi-core). enqueue returns only after
// the message is persisted; queueing a batch whose batch_id is already queued or sent succeeds without a
// second copy.
class PocSink {
 public:
  virtual ~PocSink() = default;
  virtual common::Status enqueue_batch(const SubmitPocBatch& batch) = 0;
  virtual common::Status enqueue_validation(const SubmitPocValidation& validation) = 0;
};

struct CallbackReply {
  int status = 200;
  std::string body;  // JSON: {"status":"OK","batch_id":...} or {"error":{"code":...,"message":...}}
};

// The whole callback route: parse, enqueue, reply (200 only once queued). A generated batch larger than
// ctx.max_nonces_per_message is queued as several messages (split_poc_batch); the reply lists their ids.
CallbackReply handle_generated_callback(std::string_view body, const GeneratedContext& ctx, PocSink& sink);
CallbackReply handle_validated_callback(std::string_view body, const ValidatedContext& ctx, PocSink& sink);

}  // namespace api::poc
