#include "api/mlnode/chat_stream.h"

#include "api/mlnode/field_reader.h"
#include "api/mlnode/http_call.h"
#include "net/http.h"

namespace api::mlnode {
namespace {

constexpr const char* kDone = "[DONE]";

// Consumes events as they arrive; remembers the first problem, which stops the stream.
class ChunkReader {
 public:
  ChunkReader(const std::string& route, const ChatChunkHandler& on_chunk)
      : route_(route), on_chunk_(on_chunk) {}

  bool feed(const std::string& data) {
    for (const net::SseParser::Event& event : parser_.feed(data)) {
      if (!accept(event.data)) return false;
    }
    return true;
  }

  Result<ChatStreamSummary> finish() && {
    if (error_) return std::move(*error_);
    if (!done_ && !summary_.cancelled) {
      return bad_response(route_, std::string("the stream ended before \"data: ") + kDone + "\"");
    }
    return summary_;
  }

 private:
  bool accept(const std::string& data) {
    if (data == kDone) {
      done_ = true;
      return false;
    }
    auto chunk = parse_object(data, route_);
    if (!chunk) {
      error_ = chunk.error();
      error_->message += " (stream chunk " + std::to_string(summary_.chunks + 1) + ")";
      return false;
    }
    if (chunk->contains("usage") && !(*chunk)["usage"].is_null()) {
      auto usage = parse_usage(*chunk, route_);
      if (!usage) {
        error_ = usage.error();
        return false;
      }
      summary_.usage = *usage;
    }
    ++summary_.chunks;
    if (!on_chunk_(ChatChunk{data, std::move(*chunk)})) {
      summary_.cancelled = true;
      return false;
    }
    return true;
  }

  const std::string& route_;
  const ChatChunkHandler& on_chunk_;
  net::SseParser parser_;
  ChatStreamSummary summary_;
  std::optional<MlNodeError> error_;
  bool done_ = false;
};

}  // namespace

Result<ChatStreamSummary> stream_chat(const std::string& url, const std::string& route,
                                      const std::string& body, std::chrono::milliseconds idle_timeout,
                                      const ChatChunkHandler& on_chunk) {
  ChunkReader reader(route, on_chunk);
  net::ClientResult result = net::Client::stream(
      "POST", url, body, idle_timeout, [&reader](const std::string& data) { return reader.feed(data); },
      {{"content-type", "application/json"}, {"accept", "text/event-stream"}});
  if (!result.ok()) return transport_error(route, *result.error, 1);
  if (result.response->status != 200)
    return status_error(route, result.response->status, result.response->body);
  return std::move(reader).finish();
}

}  // namespace api::mlnode
