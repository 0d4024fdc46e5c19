#include "mlnode/poc/messages.h"

#include <fmt/format.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "mlnode/poc/fraud.h"

namespace mlnode::poc {
namespace {

using common::make_error;
using nlohmann::json;

common::Status need_object(const json& j, const char* what) {
  if (!j.is_object()) return make_error(400, fmt::format("{} must be a JSON object", what));
  return {};
}

common::Status get_string(const json& j, const char* name, bool required, std::string& out) {
  if (!j.contains(name) || j.at(name).is_null()) {
    if (required) return make_error(400, fmt::format("field \"{}\" is required (string)", name));
    return {};
  }
  if (!j.at(name).is_string()) return make_error(400, fmt::format("field \"{}\" must be a string", name));
  out = j.at(name).get<std::string>();
  return {};
}

common::Status get_int(const json& j, const char* name, bool required, int64_t& out) {
  if (!j.contains(name) || j.at(name).is_null()) {
    if (required) return make_error(400, fmt::format("field \"{}\" is required (integer)", name));
    return {};
  }
  if (!j.at(name).is_number_integer()) return make_error(400, fmt::format("field \"{}\" must be an integer", name));
  out = j.at(name).get<int64_t>();
  return {};
}

common::Status get_positive_double(const json& j, const char* name, double& out) {
  if (!j.contains(name) || j.at(name).is_null()) return {};
  if (!j.at(name).is_number() || !(j.at(name).get<double>() > 0) || !std::isfinite(j.at(name).get<double>())) {
    return make_error(400, fmt::format("field \"{}\" must be a positive number", name));
  }
  out = j.at(name).get<double>();
  return {};
}

}  // namespace

common::Result<InitRequest> parse_init_request(const json& j) {
  TRY_STATUS(need_object(j, "the request body"));
  InitRequest r;
  TRY_STATUS(get_int(j, "node_id", false, r.node_id));
  TRY_STATUS(get_int(j, "node_count", false, r.node_count));
  TRY_STATUS(get_string(j, "block_hash", true, r.block_hash));
  if (r.block_hash.empty()) return make_error(400, "field \"block_hash\" must not be empty");
  TRY_STATUS(get_int(j, "block_height", true, r.block_height));
  TRY_STATUS(get_string(j, "public_key", true, r.public_key));
  if (r.public_key.empty()) return make_error(400, "field \"public_key\" must not be empty");
  TRY_STATUS(get_int(j, "batch_size", false, r.batch_size));
  if (r.batch_size < 1 || r.batch_size > 100000) return make_error(400, "field \"batch_size\" must be in [1, 100000]");
  TRY_STATUS(get_positive_double(j, "r_target", r.r_target));
  TRY_STATUS(get_positive_double(j, "fraud_threshold", r.fraud_threshold));
  TRY_STATUS(get_positive_double(j, "dist_tolerance", r.dist_tolerance));
  TRY_STATUS(get_string(j, "url", true, r.url));
  if (r.url.rfind("http://", 0) != 0) {
    return make_error(400, fmt::format("field \"url\" must be an http:// callback base URL (got \"{}\")", r.url));
  }
  while (!r.url.empty() && r.url.back() == '/') r.url.pop_back();
  if (j.contains("params")) {
    auto p = parse_model_params(j.at("params"));
    if (!p) return p.error();
    r.params = *p;
  }
  return r;
}

common::Result<ProofBatch> parse_proof_batch(const json& j) {
  TRY_STATUS(need_object(j, "the request body"));
  ProofBatch b;
  TRY_STATUS(get_string(j, "public_key", true, b.public_key));
  TRY_STATUS(get_string(j, "block_hash", true, b.block_hash));
  TRY_STATUS(get_int(j, "block_height", true, b.block_height));
  TRY_STATUS(get_int(j, "node_id", false, b.node_id));
  if (!j.contains("nonces") || !j.at("nonces").is_array()) return make_error(400, "field \"nonces\" must be an array");
  if (!j.contains("dist") || !j.at("dist").is_array()) return make_error(400, "field \"dist\" must be an array");
  const auto& nonces = j.at("nonces");
  const auto& dist = j.at("dist");
  if (nonces.size() != dist.size()) {
    return make_error(400, fmt::format("\"nonces\" ({}) and \"dist\" ({}) must have the same length", nonces.size(),
                                       dist.size()));
  }
  b.nonces.reserve(nonces.size());
  b.dist.reserve(dist.size());
  for (std::size_t i = 0; i < nonces.size(); ++i) {
    if (!nonces[i].is_number_unsigned() && !(nonces[i].is_number_integer() && nonces[i].get<int64_t>() >= 0)) {
      return make_error(400, fmt::format("nonces[{}] must be a non-negative integer", i));
    }
    if (!dist[i].is_number()) return make_error(400, fmt::format("dist[{}] must be a number", i));
    b.nonces.push_back(nonces[i].get<uint64_t>());
    b.dist.push_back(dist[i].get<double>());
  }
  return b;
}

json to_json(const InitRequest& r) {
  return {{"node_id", r.node_id},       {"node_count", r.node_count},
          {"block_hash", r.block_hash}, {"block_height", r.block_height},
          {"public_key", r.public_key}, {"batch_size", r.batch_size},
          {"r_target", r.r_target},     {"fraud_threshold", r.fraud_threshold},
          {"dist_tolerance", r.dist_tolerance}, {"params", to_json(r.params)},
          {"url", r.url}};
}

json to_json(const ProofBatch& b) {
  return {{"public_key", b.public_key}, {"block_hash", b.block_hash}, {"block_height", b.block_height},
          {"nonces", b.nonces},         {"dist", b.dist},             {"node_id", b.node_id}};
}

json to_json(const ValidatedBatch& v) {
  json j = to_json(v.batch);
  j["received_dist"] = v.received_dist;
  j["r_target"] = v.r_target;
  j["fraud_threshold"] = v.fraud_threshold;
  j["n_invalid"] = v.n_invalid;
  j["probability_honest"] = v.probability_honest;
  j["fraud_detected"] = v.fraud_detected;
  return j;
}

ValidatedBatch judge_batch(const ProofBatch& received, const std::vector<double>& recomputed, double r_target,
                           double fraud_threshold, double tolerance) {
  ValidatedBatch v;
  v.batch = received;
  v.batch.dist = recomputed;
  v.received_dist = received.dist;
  v.r_target = r_target;
  v.fraud_threshold = fraud_threshold;
  for (std::size_t i = 0; i < received.nonces.size(); ++i) {
    const double claimed = received.dist[i];
    const double actual = i < recomputed.size() ? recomputed[i] : INFINITY;
    const bool mismatch = !(claimed < r_target) || !(actual < r_target) || !(std::fabs(actual - claimed) <= tolerance);
    if (mismatch) ++v.n_invalid;
  }
  const FraudDecision d = decide_fraud(received.nonces.size(), v.n_invalid, fraud_threshold);
  v.probability_honest = d.probability_honest;
  v.fraud_detected = d.fraud_detected;
  return v;
}

}  // namespace mlnode::poc
