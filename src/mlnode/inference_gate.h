// Which inference requests may run, and ending them when the node stops serving (issue 14, fault 4).
// A request enters the gate before it reaches the backend and holds a Ticket while it runs. The gate is open
// only while the node serves a loaded model; /api/v1/stop, a model switch by /api/v1/inference/up and
// shutdown close it: new requests are refused and, with close_and_cancel(), running ones see
// Ticket::cancelled() and end (503 before the response started, an error event in a stream). Closing then
// waits for the running requests to leave, so that once /api/v1/stop has answered no inference runs and PoC
// may start.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>

namespace mlnode {

class InferenceGate {
 public:
  class Ticket {
   public:
    Ticket(Ticket&& other) noexcept : gate_(other.gate_), epoch_(other.epoch_) { other.gate_ = nullptr; }
    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;
    Ticket& operator=(Ticket&&) = delete;
    ~Ticket();
    // True once the gate was closed with close_and_cancel() after this ticket entered. Thread-safe.
    bool cancelled() const;

   private:
    friend class InferenceGate;
    Ticket(InferenceGate* gate, uint64_t epoch) : gate_(gate), epoch_(epoch) {}
    InferenceGate* gate_;
    uint64_t epoch_;
  };

  // nullopt while the gate is closed.
  std::optional<Ticket> enter();
  void open();
  // Refuses new requests and waits up to `wait` for the running ones to finish on their own (graceful
  // shutdown). Returns how many still run.
  int64_t close_and_drain(std::chrono::milliseconds wait);
  // Refuses new requests, cancels the running ones and waits up to `wait` for them to leave. Returns how many
  // still run (0 unless a handler ignores its cancellation for longer than `wait`).
  int64_t close_and_cancel(std::chrono::milliseconds wait);
  bool is_open() const;
  int64_t in_flight() const;

 private:
  void leave();
  int64_t wait_empty(std::unique_lock<std::mutex>& lock, std::chrono::milliseconds wait);
  mutable std::mutex mu_;
  std::condition_variable empty_cv_;
  bool open_ = false;
  int64_t in_flight_ = 0;
  uint64_t cancel_epoch_ = 0;
};

}  // namespace mlnode
