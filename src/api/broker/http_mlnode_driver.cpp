#include "api/broker/http_mlnode_driver.h"

#include <cstdint>

namespace api::broker {
namespace {

common::Error to_error(const mlnode::MlNodeError& e) {
  // The HTTP status when the node answered one, else 0 is not a valid error code: use 1.
  uint32_t code = e.status > 0 ? static_cast<uint32_t>(e.status) : 1;
  std::string msg = e.message;
  if (!e.remote_message.empty() && msg.find(e.remote_message) == std::string::npos)
    msg += ": " + e.remote_message;
  return common::make_error(code, msg);
}

PowPhase to_phase(mlnode::PowPhase p) {
  switch (p) {
    case mlnode::PowPhase::kNotLoaded:
      return PowPhase::kNotLoaded;
    case mlnode::PowPhase::kIdle:
      return PowPhase::kIdle;
    case mlnode::PowPhase::kGenerating:
      return PowPhase::kGenerating;
    case mlnode::PowPhase::kValidating:
      return PowPhase::kValidating;
  }
  return PowPhase::kNone;
}

NodeProbe pow_probe(const mlnode::PowStatus& s) {
  NodeProbe p;
  p.kind = ServiceKind::kPow;
  p.pow = to_phase(s.status);
  p.pow_node_id = s.node_id;
  if (s.block_height && *s.block_height >= 0) p.pow_block_height = static_cast<uint64_t>(*s.block_height);
  return p;
}

std::string http_base(const std::string& host, uint16_t port) {
  return "http://" + host + ":" + std::to_string(port);
}

}  // namespace

mlnode::PowInitRequest to_pow_init_request(const PocInit& init) {
  mlnode::PowInitRequest r;
  r.node_id = init.node_index;
  r.node_count = init.node_count;
  r.block_hash = init.block_hash;
  r.block_height = static_cast<int64_t>(init.block_height);
  r.public_key = init.public_key;
  r.url = init.callback_url;
  return r;
}

// `options` with a CancelCheck that also answers true once `flag` is set.
static mlnode::MlNodeClientOptions with_cancel(mlnode::MlNodeClientOptions options,
                                               const std::shared_ptr<std::atomic<bool>>& flag) {
  net::CancelCheck outer = std::move(options.cancelled);
  options.cancelled = [flag, outer] { return flag->load() || (outer && outer()); };
  return options;
}

HttpMlnodeDriver::HttpMlnodeDriver(const MlnodeEndpoint& endpoint, std::string version,
                                   mlnode::MlNodeClientOptions options)
    : HttpMlnodeDriver(http_base(endpoint.host, endpoint.inference_port),
                       http_base(endpoint.host, endpoint.poc_port), std::move(version), std::move(options)) {}

HttpMlnodeDriver::HttpMlnodeDriver(std::string inference_base, std::string poc_base, std::string version,
                                   mlnode::MlNodeClientOptions options)
    : cancelled_(std::make_shared<std::atomic<bool>>(false)),
      client_(std::move(inference_base), std::move(poc_base), std::move(version),
              with_cancel(std::move(options), cancelled_)) {}

void HttpMlnodeDriver::cancel() {
  cancelled_->store(true);
}

void HttpMlnodeDriver::set_version(std::string version) {
  std::lock_guard lock(mu_);
  client_ = client_.for_version(std::move(version));
}

std::string HttpMlnodeDriver::version() const {
  std::lock_guard lock(mu_);
  return client_.version();
}

mlnode::MlNodeClient HttpMlnodeDriver::client() const {
  std::lock_guard lock(mu_);
  return client_;
}

common::Result<NodeProbe> HttpMlnodeDriver::probe() {
  const mlnode::MlNodeClient c = client();
  auto st = c.state();
  if (!st) return to_error(st.error());
  switch (st->state) {
    case mlnode::NodeState::kStopped:
      return NodeProbe{ServiceKind::kStopped, {}, false, PowPhase::kNone, {}, {}};
    case mlnode::NodeState::kInference: {
      NodeProbe p{ServiceKind::kInference, st->model.value_or(""), false, PowPhase::kNone, {}, {}};
      auto h = c.health();
      p.healthy = h.ok() && h->serving;
      return p;
    }
    case mlnode::NodeState::kPow: {
      auto s = c.pow_status();
      if (!s) return to_error(s.error());
      return pow_probe(*s);
    }
  }
  return common::make_error(1, "GET /api/v1/state: unknown state");
}

common::Status HttpMlnodeDriver::stop() {
  auto r = client().stop();
  if (!r) return to_error(r.error());
  return {};
}

common::Status HttpMlnodeDriver::inference_up(const std::string& model,
                                              const std::vector<std::string>& args) {
  mlnode::InferenceUpRequest req;
  req.model = model;
  req.args = args;
  auto r = client().inference_up(req);
  if (!r) return to_error(r.error());
  if (r->model != model) {
    return common::make_error(1, "POST /api/v1/inference/up: the node reports model \"" + r->model +
                                     "\" instead of \"" + model + "\"");
  }
  return {};
}

common::Result<NodeProbe> HttpMlnodeDriver::pow_init_generate(const PocInit& init) {
  auto r = client().pow_init_generate(to_pow_init_request(init));
  if (!r) return to_error(r.error());
  return pow_probe(*r);
}

common::Result<NodeProbe> HttpMlnodeDriver::pow_init_validate(const PocInit& init) {
  auto r = client().pow_init_validate(to_pow_init_request(init));
  if (!r) return to_error(r.error());
  return pow_probe(*r);
}

common::Status HttpMlnodeDriver::pow_validate(const PocProofBatch& batch) {
  mlnode::ProofBatch b;
  b.public_key = batch.public_key;
  b.block_hash = batch.block_hash;
  b.block_height = static_cast<int64_t>(batch.block_height);
  b.nonces.reserve(batch.nonces.size());
  for (uint64_t n : batch.nonces) {
    if (n > static_cast<uint64_t>(INT64_MAX))
      return common::make_error(400, "nonce out of range for pow/validate");
    b.nonces.push_back(static_cast<int64_t>(n));
  }
  b.dist = batch.dist;
  auto r = client().pow_validate(b);
  if (!r) return to_error(r.error());
  if (r->queued_nonces != batch.nonces.size()) {
    return common::make_error(1, "POST /api/v1/pow/validate: the node queued " +
                                     std::to_string(r->queued_nonces) + " of " +
                                     std::to_string(batch.nonces.size()) + " nonces");
  }
  return {};
}

}  // namespace api::broker
