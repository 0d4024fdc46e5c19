// Reads a streamed chat completion (server-sent events) and hands each chunk to a callback in order.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "api/mlnode/error.h"
#include "api/mlnode/inference_messages.h"

namespace api::mlnode {

struct ChatChunk {
  std::string data;     // the event's data as sent, for forwarding verbatim
  nlohmann::json json;  // the same, parsed
};

// Return false to stop reading (the client went away); the call then succeeds with cancelled = true.
using ChatChunkHandler = std::function<bool(const ChatChunk&)>;

struct ChatStreamSummary {
  uint64_t chunks = 0;
  std::optional<Usage> usage;  // from the chunk carrying "usage" (stream_options.include_usage)
  bool cancelled = false;
};

// POSTs `body` to `url` and reads until "data: [DONE]". `idle_timeout` bounds the connection and each wait
// for data, not the whole stream.
Result<ChatStreamSummary> stream_chat(const std::string& url, const std::string& route,
                                      const std::string& body, std::chrono::milliseconds idle_timeout,
                                      const ChatChunkHandler& on_chunk);

}  // namespace api::mlnode
