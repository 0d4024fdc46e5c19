#include "net/http.h"

namespace net {

std::vector<SseParser::Event> SseParser::feed(const std::string& chunk) {
  std::vector<Event> events;
  buffer_ += chunk;
  std::size_t start = 0;
  while (true) {
    if (skip_lf_ && start < buffer_.size()) {
      // The previous line ended with '\r'; a '\n' right after it belongs to the same line ending.
      if (buffer_[start] == '\n') ++start;
      skip_lf_ = false;
    }
    std::size_t end = buffer_.find_first_of("\r\n", start);
    if (end == std::string::npos) break;
    skip_lf_ = buffer_[end] == '\r';
    std::string_view line(buffer_.data() + start, end - start);
    start = end + 1;

    if (line.empty()) {
      if (has_data_) {
        if (current_.event.empty()) current_.event = "message";
        events.push_back(current_);
      }
      current_.event.clear();
      current_.data.clear();
      has_data_ = false;
      continue;
    }
    if (line.front() == ':') continue;  // comment
    std::size_t colon = line.find(':');
    std::string_view field = line.substr(0, colon);
    std::string_view value = colon == std::string_view::npos ? std::string_view{} : line.substr(colon + 1);
    if (value.starts_with(' ')) value.remove_prefix(1);
    if (field == "event") {
      current_.event = value;
    } else if (field == "data") {
      if (has_data_) current_.data += '\n';
      current_.data += value;
      has_data_ = true;
    } else if (field == "id" && value.find('\0') == std::string_view::npos) {
      current_.id = value;  // per the spec the last event id carries over to later events
    }
  }
  buffer_.erase(0, start);
  return events;
}

std::string sse_event(const std::string& event, const std::string& data) {
  std::string out;
  if (!event.empty()) out += "event: " + event + "\n";
  std::size_t start = 0;
  while (true) {
    std::size_t newline = data.find('\n', start);
    out += "data: ";
    out.append(data, start, newline == std::string::npos ? std::string::npos : newline - start);
    out += '\n';
    if (newline == std::string::npos) break;
    start = newline + 1;
  }
  out += '\n';
  return out;
}

}  // namespace net
