#include "node/abci/frame.h"

namespace node::abci {

void append_frame(std::string& out, std::string_view message) {
  uint64_t n = message.size();
  while (n >= 0x80) {
    out.push_back(static_cast<char>((n & 0x7f) | 0x80));
    n >>= 7;
  }
  out.push_back(static_cast<char>(n));
  out.append(message);
}

std::string encode_frame(std::string_view message) {
  std::string out;
  out.reserve(message.size() + kMaxVarintBytes);
  append_frame(out, message);
  return out;
}

void FrameReader::feed(std::string_view bytes) {
  if (!error_.empty()) return;
  // Drop consumed bytes before growing the buffer, so it never holds more than one partial frame plus a read.
  if (pos_ > 0 && (pos_ == buffer_.size() || pos_ >= buffer_.size() / 2)) {
    buffer_.erase(0, pos_);
    pos_ = 0;
  }
  buffer_.append(bytes);
}

FrameReader::Status FrameReader::fail(std::string message) {
  error_ = std::move(message);
  buffer_.clear();
  pos_ = 0;
  return Status::kError;
}

FrameReader::Status FrameReader::next(std::string& frame) {
  if (!error_.empty()) return Status::kError;
  const std::size_t available = buffer_.size() - pos_;
  uint64_t length = 0;
  std::size_t prefix = 0;
  for (;;) {
    if (prefix == available) return Status::kNeedMore;
    const auto byte = static_cast<uint8_t>(buffer_[pos_ + prefix]);
    // The 10th byte holds bit 63 only: a larger value, or a continuation bit asking for an 11th byte,
    // does not fit in 64 bits.
    if (prefix == kMaxVarintBytes - 1 && byte > 1) return fail("frame length prefix overflows 64 bits");
    length |= static_cast<uint64_t>(byte & 0x7f) << (7 * prefix);
    ++prefix;
    if ((byte & 0x80) == 0) break;
  }
  if (length > max_frame_bytes_) {
    return fail("frame of " + std::to_string(length) + " bytes exceeds the limit of " +
                std::to_string(max_frame_bytes_) + " bytes");
  }
  if (available - prefix < length) return Status::kNeedMore;
  frame.assign(buffer_, pos_ + prefix, static_cast<std::size_t>(length));
  pos_ += prefix + static_cast<std::size_t>(length);
  return Status::kFrame;
}

}  // namespace node::abci
