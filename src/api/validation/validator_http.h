// The validator's interfaces (validator.h) over HTTP: the chain's queries through ChainClient, the executor's
// payload endpoint (payload_endpoint.h) and this participant's own MLNodes.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "api/chain/chain_client.h"
#include "api/config/config.h"
#include "api/upgrade/node_versions.h"
#include "api/validation/validator.h"
#include "common/secp256k1.h"
#include "net/address_policy.h"

namespace api::validation {

class ChainView final : public ValidatorChain {
 public:
  explicit ChainView(const chain::ChainClient& chain) : chain_(chain) {}
  common::Result<InferenceRecord> inference(const std::string& id) override;
  common::Result<std::string> participant_url(const std::string& address) override;
  // The current epoch's model snapshot (else the governance registry): validation_threshold.
  common::Result<double> validation_threshold(const std::string& model) override;

 private:
  const chain::ChainClient& chain_;
};

class HttpPayloadFetcher final : public PayloadFetcher {
 public:
  // `policy`: the outbound address policy of calls to participant URLs (inference.allowed_networks), the same
  // as the transfer agent's (net/address_policy.h): an executor URL resolving to a refused address is not
  // called.
  HttpPayloadFetcher(common::secp256k1::PrivateKey key, std::string address, net::AddressPolicy policy,
                     std::chrono::milliseconds timeout = std::chrono::milliseconds(10000))
      : key_(std::move(key)), address_(std::move(address)), policy_(std::move(policy)), timeout_(timeout) {}
  // GET <executor_url>/v1/inferences/<id>/payload, signed; 200 only (a 3xx is an error, never followed);
  // connect 5 s, first byte and each read `timeout`, whole call 2 x `timeout`.
  common::Result<Payload> fetch(const std::string& executor_url, const std::string& executor,
                                const std::string& id) override;

 private:
  common::secp256k1::PrivateKey key_;
  std::string address_;
  net::AddressPolicy policy_;
  std::chrono::milliseconds timeout_;
};

// Re-runs on a local, enabled MLNode configured for the model that is one of this participant's ml_nodes of
// the model's sub-group in the current epoch (during PoC only a POC_SLOT one) and not being switched to a new
// MLNode version, at that node's MLNode version (`versions`, api/upgrade/node_versions.h; null: the chain's
// current one): POST http://host:inference_port/<version>/v1/chat/completions, non-streamed.
class HttpReplayer final : public Replayer {
 public:
  HttpReplayer(const chain::ChainClient& chain, std::string address,
               std::function<std::vector<config::NodeConfig>()> local_nodes,
               std::chrono::milliseconds timeout = std::chrono::milliseconds(120000),
               upgrade::NodeVersions* versions = nullptr)
      : chain_(chain),
        address_(std::move(address)),
        local_nodes_(std::move(local_nodes)),
        timeout_(timeout),
        versions_(versions) {}
  common::Result<std::vector<TokenLogprob>> replay(const std::string& model,
                                                   const nlohmann::json& request) override;

 private:
  const chain::ChainClient& chain_;
  std::string address_;
  std::function<std::vector<config::NodeConfig>()> local_nodes_;
  std::chrono::milliseconds timeout_;
  upgrade::NodeVersions* versions_ = nullptr;
};

}  // namespace api::validation
