#include "api/upgrade/node_versions.h"

namespace api::upgrade {

VersionUse::VersionUse(NodeVersions* owner, std::string node_id, std::string version)
    : owner_(owner), node_id_(std::move(node_id)), version_(std::move(version)) {}

VersionUse::~VersionUse() {
  if (owner_) owner_->release(node_id_, version_);
}

NodeVersions::NodeVersions(std::string target, std::string in_use)
    : target_(std::move(target)), default_(std::move(in_use)) {}

std::string NodeVersions::target() const {
  std::lock_guard lock(mu_);
  return target_;
}

void NodeVersions::set_target(std::string version) {
  std::lock_guard lock(mu_);
  target_ = std::move(version);
}

std::string NodeVersions::version(const std::string& node_id) const {
  std::lock_guard lock(mu_);
  auto it = versions_.find(node_id);
  return it == versions_.end() ? default_ : it->second;
}

void NodeVersions::set_version(const std::string& node_id, std::string version) {
  std::lock_guard lock(mu_);
  versions_[node_id] = std::move(version);
}

std::string NodeVersions::default_version() const {
  std::lock_guard lock(mu_);
  return default_;
}

void NodeVersions::set_default_version(std::string version) {
  std::lock_guard lock(mu_);
  default_ = std::move(version);
}

void NodeVersions::forget(const std::string& node_id) {
  std::lock_guard lock(mu_);
  versions_.erase(node_id);
  switching_.erase(node_id);
}

bool NodeVersions::switching(const std::string& node_id) const {
  std::lock_guard lock(mu_);
  auto it = switching_.find(node_id);
  return it != switching_.end() && it->second;
}

void NodeVersions::set_switching(const std::string& node_id, bool on) {
  std::lock_guard lock(mu_);
  if (on) {
    switching_[node_id] = true;
  } else {
    switching_.erase(node_id);
  }
}

std::unique_ptr<VersionUse> NodeVersions::use(const std::string& node_id) {
  std::lock_guard lock(mu_);
  auto it = versions_.find(node_id);
  std::string v = it == versions_.end() ? default_ : it->second;
  ++in_flight_[{node_id, v}];
  return std::make_unique<VersionUse>(this, node_id, std::move(v));
}

uint32_t NodeVersions::in_flight(const std::string& node_id, const std::string& version) const {
  std::lock_guard lock(mu_);
  auto it = in_flight_.find({node_id, version});
  return it == in_flight_.end() ? 0 : it->second;
}

void NodeVersions::release(const std::string& node_id, const std::string& version) {
  std::lock_guard lock(mu_);
  auto it = in_flight_.find({node_id, version});
  if (it == in_flight_.end()) return;
  if (--it->second == 0) in_flight_.erase(it);
}

}  // namespace api::upgrade
