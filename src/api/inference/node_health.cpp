#include "api/inference/node_health.h"

namespace api::inference {

std::string serving_refusal(const std::optional<NodeHealth>& h, const std::string& model) {
  if (!h) return "not observed yet";
  if (h->status == "FAILED") return "FAILED: " + h->failure_reason;
  if (h->status != "INFERENCE" || h->service != "INFERENCE")
    return "not serving inference (status " + h->status + ")";
  if (h->model != model)
    return "serves " + (h->model.empty() ? std::string("no model") : h->model) + ", not " + model;
  if (!h->healthy) return "its /health is not healthy";
  return "";
}

}  // namespace api::inference
