// An inference backend: what serves /v1/chat/completions, /v1/models and /tokenize once a model is up.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "mlnode/backends/chat_request.h"
#include "net/http.h"

namespace mlnode::backends {

class InferenceBackend {
 public:
  virtual ~InferenceBackend() = default;
  virtual std::string name() const = 0;
  // Loads the model with the (merged) model args; returns when it is ready to serve, or an error
  // whose code is the HTTP status to answer with.
  virtual common::Status up(const std::string& model, const std::vector<std::string>& args) = 0;
  virtual void down() = 0;
  // Makes a running up() give up soon (it returns an error); called without the caller's state lock.
  virtual void cancel_up() = 0;
  virtual bool healthy() = 0;
  virtual std::optional<std::string> model() const = 0;
  // Writes the whole response (streamed or not). `raw_body` is what the client sent.
  virtual void chat(const ChatRequest& request, const std::string& raw_body, net::ResponseWriter& out) = 0;
  virtual net::Response tokenize(const TokenizeRequest& request, const std::string& raw_body) = 0;
  virtual net::Response models() = 0;
};

}  // namespace mlnode::backends
