// A scripted MLNode for broker tests: keeps a service state like the real node (409 for a service while
// another runs), can be "down" (every call fails like a refused connection) or fail chosen calls, records
// every call, and runs a hook inside a call (to change the intent while the call is in flight).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "api/broker/mlnode_driver.h"

namespace api::broker::testing {

class FakeDriver : public MlnodeDriver {
 public:
  NodeProbe state{ServiceKind::kStopped, {}, false, PowPhase::kNone, {}, {}};
  bool down = false;
  std::string fail_inference_up;  // non-empty: inference/up answers 500 with this message
  std::vector<std::string> calls;
  std::vector<std::string> last_args;
  std::function<void(const std::string& call)> during_call;  // runs inside each call, before it takes effect

  common::Result<NodeProbe> probe() override {
    if (auto e = enter("probe")) return *e;
    return state;
  }
  common::Status stop() override {
    if (auto e = enter("stop")) return *e;
    state = NodeProbe{ServiceKind::kStopped, {}, false, PowPhase::kNone, {}, {}};
    return {};
  }
  common::Status inference_up(const std::string& model, const std::vector<std::string>& args) override {
    if (auto e = enter("inference_up " + model)) return *e;
    if (state.kind == ServiceKind::kPow)
      return common::make_error(409, "POST /api/v1/inference/up: HTTP 409: stop first");
    if (!fail_inference_up.empty())
      return common::make_error(500, "POST /api/v1/inference/up: HTTP 500: " + fail_inference_up);
    state = NodeProbe{ServiceKind::kInference, model, true, PowPhase::kNone, {}, {}};
    last_args = args;
    return {};
  }
  common::Result<NodeProbe> pow_init_generate(const PocInit& init) override {
    return pow_init("pow_init_generate", init, PowPhase::kGenerating);
  }
  common::Result<NodeProbe> pow_init_validate(const PocInit& init) override {
    return pow_init("pow_init_validate", init, PowPhase::kValidating);
  }
  std::vector<PocProofBatch> validated;
  common::Status pow_validate(const PocProofBatch& batch) override {
    if (auto e = enter("pow_validate")) return *e;
    if (state.kind != ServiceKind::kPow)
      return common::make_error(409, "pow_validate: HTTP 409: PoC is not running");
    validated.push_back(batch);
    return {};
  }

 private:
  std::optional<common::Error> enter(const std::string& call) {
    calls.push_back(call);
    if (during_call) during_call(call);
    if (down) return common::make_error(1, call + ": connection refused");
    return std::nullopt;
  }
  common::Result<NodeProbe> pow_init(const std::string& name, const PocInit& init, PowPhase phase) {
    if (auto e = enter(name)) return *e;
    if (state.kind == ServiceKind::kInference)
      return common::make_error(409, name + ": HTTP 409: stop first");
    state = NodeProbe{ServiceKind::kPow, {}, false, phase, init.node_index, init.block_height};
    return state;
  }
};

}  // namespace api::broker::testing
