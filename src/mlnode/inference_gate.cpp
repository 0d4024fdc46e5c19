#include "mlnode/inference_gate.h"

namespace mlnode {

InferenceGate::Ticket::~Ticket() {
  if (gate_) gate_->leave();
}

bool InferenceGate::Ticket::cancelled() const {
  std::lock_guard lock(gate_->mu_);
  return gate_->cancel_epoch_ != epoch_;
}

std::optional<InferenceGate::Ticket> InferenceGate::enter() {
  std::lock_guard lock(mu_);
  if (!open_) return std::nullopt;
  ++in_flight_;
  return Ticket(this, cancel_epoch_);
}

void InferenceGate::leave() {
  std::lock_guard lock(mu_);
  if (--in_flight_ == 0) empty_cv_.notify_all();
}

void InferenceGate::open() {
  std::lock_guard lock(mu_);
  open_ = true;
}

int64_t InferenceGate::wait_empty(std::unique_lock<std::mutex>& lock, std::chrono::milliseconds wait) {
  empty_cv_.wait_for(lock, wait, [&] { return in_flight_ == 0; });
  return in_flight_;
}

int64_t InferenceGate::close_and_drain(std::chrono::milliseconds wait) {
  std::unique_lock lock(mu_);
  open_ = false;
  return wait_empty(lock, wait);
}

int64_t InferenceGate::close_and_cancel(std::chrono::milliseconds wait) {
  std::unique_lock lock(mu_);
  open_ = false;
  ++cancel_epoch_;
  return wait_empty(lock, wait);
}

bool InferenceGate::is_open() const {
  std::lock_guard lock(mu_);
  return open_;
}

int64_t InferenceGate::in_flight() const {
  std::lock_guard lock(mu_);
  return in_flight_;
}

}  // namespace mlnode
