#include "api/inference/relay.h"

#include <limits>

#include "common/hash.h"

namespace api::inference {

using nlohmann::json;

void CompletionRelay::take_usage(const json& j) {
  auto u = j.find("usage");
  if (u == j.end() || !u->is_object()) return;
  auto p = u->find("prompt_tokens");
  auto c = u->find("completion_tokens");
  if (p == u->end() || c == u->end() || !p->is_number_unsigned() || !c->is_number_unsigned()) return;
  usage_ = Usage{p->get<uint64_t>(), c->get<uint64_t>()};
}

bool CompletionRelay::whole(json& body) {
  if (!body.is_object()) return false;
  body["id"] = id_;
  if (auto ch = body.find("choices"); ch != body.end() && ch->is_array()) {
    for (const auto& c : *ch) {
      if (!c.is_object()) continue;
      auto m = c.find("message");
      if (m == c.end() || !m->is_object()) continue;
      auto t = m->find("content");
      if (t != m->end() && t->is_string()) content_ += t->get<std::string>();
    }
  }
  take_usage(body);
  return usage_.has_value();
}

void CompletionRelay::chunk(json& chunk) {
  if (!chunk.is_object()) return;
  if (chunk.contains("id")) chunk["id"] = id_;
  if (auto ch = chunk.find("choices"); ch != chunk.end() && ch->is_array()) {
    for (const auto& c : *ch) {
      if (!c.is_object()) continue;
      auto d = c.find("delta");
      if (d == c.end() || !d->is_object()) continue;
      auto t = d->find("content");
      if (t != d->end() && t->is_string()) content_ += t->get<std::string>();
    }
  }
  take_usage(chunk);
}

std::string CompletionRelay::response_hash() const {
  return common::sha256(content_);
}

std::optional<uint64_t> escrow_amount(uint64_t prompt_tokens, uint64_t max_tokens, uint64_t per_token_price) {
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  if (prompt_tokens > kMax - max_tokens) return std::nullopt;
  uint64_t tokens = prompt_tokens + max_tokens;
  if (per_token_price != 0 && tokens > kMax / per_token_price) return std::nullopt;
  return tokens * per_token_price;
}

}  // namespace api::inference
