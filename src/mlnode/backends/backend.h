// An inference backend: what serves /v1/chat/completions, /v1/models and /tokenize once a model is up.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "mlnode/backends/chat_request.h"
#include "net/http.h"

namespace mlnode::backends {

// Polled by long waits (a model load, a completion, an upstream call); true means give up now: the node is
// stopping or switching, or the client went away. Must be cheap and thread-safe.
using Cancelled = std::function<bool()>;

class InferenceBackend {
 public:
  virtual ~InferenceBackend() = default;
  virtual std::string name() const = 0;
  // Loads the model with the (merged) model args; returns when it is ready to serve, or an error whose code
  // is the HTTP status to answer with. Gives up within ~100 ms once `cancelled()` is true (error 409); a
  // cancellation that happened before the call is seen too, since `cancelled` is evaluated, never reset, by
  // up().
  virtual common::Status up(const std::string& model, const std::vector<std::string>& args,
                            const Cancelled& cancelled) = 0;
  virtual void down() = 0;
  virtual bool healthy() = 0;
  virtual std::optional<std::string> model() const = 0;
  // Writes the whole response (streamed or not). `raw_body` is what the client sent. Returns within ~100 ms
  // once `cancelled()` is true, having written nothing or a partial stream; the caller tells the client why.
  virtual void chat(const ChatRequest& request, const std::string& raw_body, net::ResponseWriter& out,
                    const Cancelled& cancelled) = 0;
  virtual net::Response tokenize(const TokenizeRequest& request, const std::string& raw_body) = 0;
  virtual net::Response models() = 0;
};

}  // namespace mlnode::backends
