// MlnodeDriver over api::mlnode::MlNodeClient. URLs are http://host:port/<version>/..., with the MLNode
// version the chain reports passed in (and switchable with set_version at an upgrade height; never a constant
// here).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "api/broker/mlnode_driver.h"
#include "api/mlnode/mlnode_client.h"

namespace api::broker {

struct MlnodeEndpoint {
  std::string host;  // host name or IP of the MLNode (or of the nginx proxy in front of its versions)
  uint16_t inference_port = 0;
  uint16_t poc_port = 0;
};

class HttpMlnodeDriver final : public MlnodeDriver {
 public:
  HttpMlnodeDriver(const MlnodeEndpoint& endpoint, std::string version,
                   mlnode::MlNodeClientOptions options = {});
  // Bases "http://host:port" of the inference and management/PoC ports.
  HttpMlnodeDriver(std::string inference_base, std::string poc_base, std::string version,
                   mlnode::MlNodeClientOptions options = {});

  // Later calls use URLs of `version`; a call already running finishes on the old one. Thread-safe.
  void set_version(std::string version);
  std::string version() const;

  common::Result<NodeProbe> probe() override;
  common::Status stop() override;
  common::Status inference_up(const std::string& model, const std::vector<std::string>& args) override;
  common::Result<NodeProbe> pow_init_generate(const PocInit& init) override;
  common::Result<NodeProbe> pow_init_validate(const PocInit& init) override;
  common::Status pow_validate(const PocProofBatch& batch) override;
  // Every call polls this flag (net::CancelCheck, about every 50 ms): a call in flight is abandoned within
  // that time and later calls fail at once.
  void cancel() override;

 private:
  mlnode::MlNodeClient client() const;  // a copy, so no lock is held during I/O

  std::shared_ptr<std::atomic<bool>> cancelled_;  // shared with the client's CancelCheck
  mutable std::mutex mu_;
  mlnode::MlNodeClient client_;
};

// The pow/init request for `init` (node_id = node_index).
mlnode::PowInitRequest to_pow_init_request(const PocInit& init);

}  // namespace api::broker
