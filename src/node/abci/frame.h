// ABCI socket framing (CometBFT v0.38): every message is an unsigned LEB128 varint of its byte length
// followed by that many bytes of serialized protobuf. Not the zig-zag signed varint of Tendermint <= 0.34.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace node::abci {

// Large enough for a FinalizeBlock carrying a full 100 MiB block (CometBFT's hard cap) plus envelope.
inline constexpr std::size_t kDefaultMaxFrameBytes = std::size_t{128} << 20;
// A uint64 needs at most 10 varint bytes.
inline constexpr std::size_t kMaxVarintBytes = 10;

// Appends the length prefix and the message to `out`.
void append_frame(std::string& out, std::string_view message);
std::string encode_frame(std::string_view message);

// Incremental reader: bytes arrive in arbitrary pieces (one read may hold several frames, a frame may span
// reads). After an error the reader stays in the error state; the connection must be closed.
class FrameReader {
 public:
  enum class Status { kFrame, kNeedMore, kError };

  explicit FrameReader(std::size_t max_frame_bytes = kDefaultMaxFrameBytes) : max_frame_bytes_(max_frame_bytes) {}

  void feed(std::string_view bytes);
  // kFrame: `frame` holds the next message (without its prefix). kNeedMore: feed more bytes.
  // kError: error() says what was wrong with the stream.
  Status next(std::string& frame);

  const std::string& error() const { return error_; }
  // Bytes received but not yet returned as frames.
  std::size_t buffered() const { return buffer_.size() - pos_; }
  std::size_t max_frame_bytes() const { return max_frame_bytes_; }

 private:
  Status fail(std::string message);

  std::size_t max_frame_bytes_;
  std::string buffer_;
  std::size_t pos_ = 0;  // start of unread data in buffer_
  std::string error_;
};

}  // namespace node::abci
