#include "mlnode/backends/tokenizer.h"

namespace mlnode::backends {
namespace {

bool is_word_char(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

std::size_t utf8_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead >> 5) == 0x6) return 2;
  if ((lead >> 4) == 0xE) return 3;
  if ((lead >> 3) == 0x1E) return 4;
  return 1;  // stray continuation byte: one piece of its own
}

}  // namespace

std::vector<std::string> tokenize_text(std::string_view text) {
  constexpr std::size_t kMaxWord = 8;
  std::vector<std::string> pieces;
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t start = i;
    std::size_t j = i;
    if (text[j] == ' ' && j + 1 < text.size() && is_word_char(static_cast<unsigned char>(text[j + 1]))) ++j;
    if (is_word_char(static_cast<unsigned char>(text[j]))) {
      std::size_t n = 0;
      while (j < text.size() && n < kMaxWord && is_word_char(static_cast<unsigned char>(text[j]))) ++j, ++n;
    } else {
      j += utf8_length(static_cast<unsigned char>(text[j]));
      if (j > text.size()) j = text.size();
    }
    pieces.emplace_back(text.substr(start, j - start));
    i = j;
  }
  return pieces;
}

uint32_t token_id(std::string_view piece) {
  uint32_t h = 2166136261u;  // FNV-1a
  for (unsigned char c : piece) {
    h ^= c;
    h *= 16777619u;
  }
  return h % kVocabSize;
}

std::string render_chat(const std::vector<ChatMessage>& messages) {
  std::string out;
  for (const auto& m : messages) out += "<|" + m.role + "|>\n" + m.content + "\n";
  out += "<|assistant|>\n";
  return out;
}

}  // namespace mlnode::backends
