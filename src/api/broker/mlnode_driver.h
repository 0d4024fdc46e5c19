// The narrow interface the reconciler drives one MLNode through. Production: HttpMlnodeDriver (over
// api::mlnode::MlNodeClient, versioned URLs); tests: a fake. Every call blocks until the node answered or the
// call's timeout passed, and fails (common::Error, message naming the route and the cause) on a transport
// error, a timeout, a non-2xx status or a malformed body — never a false success.
#pragma once

#include <string>
#include <vector>

#include "api/broker/node_state.h"
#include "common/result.h"

namespace api::broker {

// POST /api/v1/pow/validate body: another participant's nonces to recompute (its public key, our PoC's
// block).
struct PocProofBatch {
  std::string public_key;  // the prover's poc_public_key_hex
  std::string block_hash;
  uint64_t block_height = 0;
  std::vector<uint64_t> nonces;
  std::vector<double> dist;  // what the prover reported, one per nonce
};

class MlnodeDriver {
 public:
  virtual ~MlnodeDriver() = default;
  // GET /api/v1/state; then GET /health when the node serves inference (an unhealthy answer is healthy=false,
  // not an error), or GET /api/v1/pow/status when it runs PoC.
  virtual common::Result<NodeProbe> probe() = 0;
  // POST /api/v1/stop.
  virtual common::Status stop() = 0;
  // POST /api/v1/inference/up {model, args}; succeeds once the node serves the model.
  virtual common::Status inference_up(const std::string& model, const std::vector<std::string>& args) = 0;
  // POST /api/v1/pow/init/generate | validate; the node's PoC state after the call.
  virtual common::Result<NodeProbe> pow_init_generate(const PocInit& init) = 0;
  virtual common::Result<NodeProbe> pow_init_validate(const PocInit& init) = 0;
  // POST /api/v1/pow/validate: queue a batch for validation (the verdict comes back on the validated
  // callback).
  virtual common::Status pow_validate(const PocProofBatch& batch) = 0;
  // Abandons the calls in flight (each returns an error at once, its connection closed) and makes every later
  // call fail the same way: the driver is being shut down (Reconciler::stop). Thread-safe; may be called
  // while another thread is inside a call. The default does nothing: calls then end at their timeout.
  virtual void cancel() {}
};

}  // namespace api::broker
