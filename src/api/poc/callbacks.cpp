#include "api/poc/callbacks.h"

#include <cmath>

#include <nlohmann/json.hpp>

namespace api::poc {
namespace {

using nlohmann::json;

common::Error bad(std::string message) {
  return common::make_error(400, std::move(message));
}

common::Result<json> parse_object(std::string_view body, size_t max_bytes) {
  if (body.size() > max_bytes) {
    return common::make_error(413, "body of " + std::to_string(body.size()) + " bytes exceeds the limit of " +
                                       std::to_string(max_bytes));
  }
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded()) return bad("the body is not valid JSON");
  if (!j.is_object()) return bad("the body must be a JSON object");
  return j;
}

common::Result<std::string> str(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string())
    return bad(std::string("field \"") + key + "\" is required (string)");
  return it->get<std::string>();
}

common::Result<int64_t> integer(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer()) {
    return bad(std::string("field \"") + key + "\" is required (integer)");
  }
  return it->get<int64_t>();
}

struct Proof {
  std::string public_key;
  int64_t block_height = 0;
  int64_t node_id = 0;
  std::vector<uint64_t> nonces;
  std::vector<double> dist;
};

common::Result<Proof> parse_proof(const json& j) {
  Proof p;
  auto pk = str(j, "public_key");
  if (!pk) return pk.error();
  p.public_key = *pk;
  auto height = integer(j, "block_height");
  if (!height) return height.error();
  p.block_height = *height;
  auto node = integer(j, "node_id");
  if (!node) return node.error();
  p.node_id = *node;
  auto nonces = j.find("nonces");
  auto dist = j.find("dist");
  if (nonces == j.end() || !nonces->is_array())
    return bad("field \"nonces\" is required (array of integers)");
  if (dist == j.end() || !dist->is_array()) return bad("field \"dist\" is required (array of numbers)");
  if (nonces->size() != dist->size()) {
    return bad("\"nonces\" (" + std::to_string(nonces->size()) + ") and \"dist\" (" +
               std::to_string(dist->size()) + ") must have the same length");
  }
  if (nonces->empty()) return bad("\"nonces\" must not be empty");
  if (nonces->size() > kMaxNoncesPerBatch) {
    return common::make_error(413, "a batch holds at most " + std::to_string(kMaxNoncesPerBatch) +
                                       " nonces, got " + std::to_string(nonces->size()));
  }
  p.nonces.reserve(nonces->size());
  p.dist.reserve(dist->size());
  for (size_t i = 0; i < nonces->size(); ++i) {
    const json& n = (*nonces)[i];
    if (!n.is_number_unsigned())
      return bad("nonces[" + std::to_string(i) + "] must be a non-negative integer");
    p.nonces.push_back(n.get<uint64_t>());
    const json& d = (*dist)[i];
    if (!d.is_number()) return bad("dist[" + std::to_string(i) + "] must be a number");
    double v = d.get<double>();
    if (!std::isfinite(v) || v < 0) return bad("dist[" + std::to_string(i) + "] must be finite and >= 0");
    p.dist.push_back(v);
  }
  return p;
}

// The batch's PoC against the current one: none known yet or a later one -> 409 (the MLNode retries), an
// earlier one -> 410 (it never will be accepted).
common::Status check_height(int64_t block_height, uint64_t poc_start) {
  if (poc_start == 0) {
    return common::make_error(409, "no PoC is in progress; batches are accepted from the PoC start on");
  }
  if (block_height >= 0 && static_cast<uint64_t>(block_height) < poc_start) {
    return common::make_error(410, "batch of the PoC started at height " + std::to_string(block_height) +
                                       ", which is over: the current PoC started at " +
                                       std::to_string(poc_start) + "; do not resend it");
  }
  if (block_height < 0 || static_cast<uint64_t>(block_height) != poc_start) {
    return common::make_error(409, "batch of the PoC started at height " + std::to_string(block_height) +
                                       ", but the current PoC started at " + std::to_string(poc_start));
  }
  return {};
}

// 410 once the chain can no longer include the message: it would land in a block after `window_end`.
common::Status check_window(uint64_t height, uint64_t window_end, const char* what) {
  if (window_end != 0 && height >= window_end) {
    return common::make_error(410, std::string(what) +
                                       " window closed: the chain accepts it only up to height " +
                                       std::to_string(window_end) + " and dapi is at height " +
                                       std::to_string(height) + "; nothing was queued, do not resend it");
  }
  return {};
}

CallbackReply error_reply(const common::Error& e) {
  int status = (e.code >= 400 && e.code < 600) ? static_cast<int>(e.code) : 400;
  const char* code = status == 403   ? "foreign_public_key"
                     : status == 404 ? "unknown_node"
                     : status == 409 ? "wrong_poc"
                     : status == 410 ? "window_closed"
                     : status == 413 ? "too_large"
                     : status == 503 ? "not_queued"
                                     : "invalid_request";
  return {status, json{{"error", {{"code", code}, {"message", e.message}}}}.dump()};
}

}  // namespace

common::Result<SubmitPocBatch> parse_generated_callback(std::string_view body, const GeneratedContext& ctx) {
  auto j = parse_object(body, ctx.max_body_bytes);
  if (!j) return j.error();
  auto p = parse_proof(*j);
  if (!p) return p.error();
  if (p->public_key != ctx.public_key_hex) {
    return common::make_error(403,
                              "public_key " + p->public_key.substr(0, 16) +
                                  "... is not this participant's PoC key; batches are accepted only from our "
                                  "own MLNodes");
  }
  TRY_STATUS(check_height(p->block_height, ctx.assignment.poc_start_height));
  auto node = ctx.assignment.node_at(p->node_id);
  if (!node) {
    return common::make_error(404, "node index " + std::to_string(p->node_id) + " names none of our " +
                                       std::to_string(ctx.assignment.node_count) + " nodes in this PoC");
  }
  TRY_STATUS(check_window(ctx.height, ctx.batch_window_end, "the PoC batch"));
  SubmitPocBatch m;
  m.creator = ctx.creator;
  m.poc_stage_start_block_height = ctx.assignment.poc_start_height;
  m.batch_id = poc_batch_id(*node, m.poc_stage_start_block_height, p->nonces);
  m.nonces = std::move(p->nonces);
  m.dist = std::move(p->dist);
  m.node_id = *node;
  return m;
}

common::Result<SubmitPocValidation> parse_validated_callback(std::string_view body,
                                                             const ValidatedContext& ctx) {
  auto j = parse_object(body, ctx.max_body_bytes);
  if (!j) return j.error();
  auto p = parse_proof(*j);
  if (!p) return p.error();
  auto fraud = j->find("fraud_detected");
  if (fraud == j->end() || !fraud->is_boolean())
    return bad("field \"fraud_detected\" is required (true or false)");
  auto n_invalid = j->find("n_invalid");
  if (n_invalid == j->end() || !n_invalid->is_number_unsigned()) {
    return bad("field \"n_invalid\" is required (non-negative integer)");
  }
  if (n_invalid->get<uint64_t>() > p->nonces.size()) return bad("\"n_invalid\" exceeds the number of nonces");
  auto participant = address_from_poc_public_key(p->public_key, ctx.hrp);
  if (!participant) return participant.error();
  TRY_STATUS(check_height(p->block_height, ctx.poc_start_height));
  TRY_STATUS(check_window(ctx.height, ctx.validation_end, "the PoC validation"));
  SubmitPocValidation v;
  v.creator = ctx.creator;
  v.participant_address = *participant;
  v.poc_stage_start_block_height = ctx.poc_start_height;
  v.fraud_detected = fraud->get<bool>();
  v.n_invalid = n_invalid->get<uint64_t>();
  v.sample_size = p->nonces.size();
  return v;
}

CallbackReply handle_generated_callback(std::string_view body, const GeneratedContext& ctx, PocSink& sink) {
  auto m = parse_generated_callback(body, ctx);
  if (!m) return error_reply(m.error());
  json ids = json::array();
  for (const SubmitPocBatch& part : split_poc_batch(*m, ctx.max_nonces_per_message)) {
    if (auto st = sink.enqueue_batch(part); !st.ok()) {
      return error_reply(common::make_error(503, "batch not queued: " + st.error().message));
    }
    ids.push_back(part.batch_id);
  }
  return {
      200,
      json{{"status", "OK"}, {"batch_id", ids.front()}, {"batch_ids", ids}, {"node_id", m->node_id}}.dump()};
}

CallbackReply handle_validated_callback(std::string_view body, const ValidatedContext& ctx, PocSink& sink) {
  auto v = parse_validated_callback(body, ctx);
  if (!v) return error_reply(v.error());
  if (auto st = sink.enqueue_validation(*v); !st.ok()) {
    return error_reply(common::make_error(503, "validation not queued: " + st.error().message));
  }
  return {200, json{{"status", "OK"}, {"participant", v->participant_address}}.dump()};
}

}  // namespace api::poc
