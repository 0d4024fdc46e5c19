#include "api/validation/payload.h"

#include <algorithm>
#include <cstdlib>

namespace api::validation {

using nlohmann::json;

json payload_to_json(const Payload& p) {
  return {{"inference_id", p.inference_id},           {"prompt", p.prompt},
          {"mlnode_request", p.mlnode_request},       {"content", p.content},
          {"logprobs", logprobs_to_json(p.logprobs)}, {"recorded_height", p.recorded_height}};
}

std::optional<Payload> payload_from_json(const json& j) {
  if (!j.is_object()) return std::nullopt;
  for (const char* k : {"inference_id", "prompt", "content"})
    if (!j.contains(k) || !j[k].is_string()) return std::nullopt;
  if (!j.contains("logprobs")) return std::nullopt;
  auto lp = logprobs_from_json(j["logprobs"]);
  if (!lp) return std::nullopt;
  Payload p;
  p.inference_id = j["inference_id"].get<std::string>();
  p.prompt = j["prompt"].get<std::string>();
  p.content = j["content"].get<std::string>();
  p.logprobs = std::move(*lp);
  p.mlnode_request = j.value("mlnode_request", json(nullptr));
  if (j.contains("recorded_height") && j["recorded_height"].is_number_unsigned())
    p.recorded_height = j["recorded_height"].get<uint64_t>();
  return p;
}

OutputFault output_fault_from_env() {
  const char* fault = std::getenv(kFaultEnv);
  const char* enabled = std::getenv(kFaultEnableEnv);
  if (fault == nullptr || enabled == nullptr || std::string(enabled) != kFaultEnableValue)
    return OutputFault::kNone;
  if (std::string(fault) == "reverse_tokens") return OutputFault::kReverseTokens;
  return OutputFault::kNone;
}

namespace {

bool ascii(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

std::string reversed(std::string s) {
  if (ascii(s)) std::reverse(s.begin(), s.end());
  return s;
}

}  // namespace

PayloadRecording::PayloadRecording(std::string inference_id, json& mlnode_body, OutputFault fault)
    : id_(std::move(inference_id)), prompt_(mlnode_body.dump()), fault_(fault) {
  auto lp = mlnode_body.find("logprobs");
  client_logprobs_ = lp != mlnode_body.end() && lp->is_boolean() && lp->get<bool>();
  if (!client_logprobs_) {
    mlnode_body["logprobs"] = true;
    mlnode_body["top_logprobs"] = kTopLogprobs;
  }
}

void PayloadRecording::choice(json& c, const char* content_field) {
  if (!c.is_object()) return;
  std::vector<TokenLogprob> tokens;
  if (!append_logprobs(c, tokens)) {
    logprobs_ok_ = false;
    tokens.clear();
  }
  auto holder = c.find(content_field);
  std::string text;
  if (holder != c.end() && holder->is_object()) {
    auto t = holder->find("content");
    if (t != holder->end() && t->is_string()) text = t->get<std::string>();
  }
  if (fault_ == OutputFault::kReverseTokens && !text.empty()) {
    std::string spelled;
    for (const auto& t : tokens) spelled += t.token;
    if (!tokens.empty() && spelled == text) {
      text.clear();
      auto& entries = c["logprobs"]["content"];
      for (std::size_t i = 0; i < tokens.size(); ++i) {
        tokens[i].token = reversed(tokens[i].token);
        entries[i]["token"] = tokens[i].token;
        entries[i].erase("bytes");
        text += tokens[i].token;
      }
    } else {
      text = reversed(text);
    }
    (*holder)["content"] = text;
  }
  content_ += text;
  logprobs_.insert(logprobs_.end(), tokens.begin(), tokens.end());
  if (!client_logprobs_ && c.contains("logprobs")) c["logprobs"] = nullptr;
}

void PayloadRecording::whole(json& completion) {
  if (!completion.is_object()) return;
  auto ch = completion.find("choices");
  if (ch == completion.end() || !ch->is_array()) return;
  for (auto& c : *ch) choice(c, "message");
}

void PayloadRecording::chunk(json& chunk) {
  if (!chunk.is_object()) return;
  auto ch = chunk.find("choices");
  if (ch == chunk.end() || !ch->is_array()) return;
  for (auto& c : *ch) choice(c, "delta");
}

Payload PayloadRecording::payload(const json& mlnode_body, uint64_t height) const {
  Payload p;
  p.inference_id = id_;
  p.prompt = prompt_;
  p.mlnode_request = mlnode_body;
  p.content = content_;
  if (logprobs_ok_) p.logprobs = logprobs_;
  p.recorded_height = height;
  return p;
}

std::optional<json> replay_request(const std::string& prompt, const std::string& content) {
  json body = json::parse(prompt, nullptr, false);
  if (body.is_discarded() || !body.is_object()) return std::nullopt;
  if (auto n = body.find("n"); n != body.end() && !n->is_null() && !(n->is_number_integer() && *n == 1))
    return std::nullopt;
  body.erase("stream_options");
  body["stream"] = false;
  body["logprobs"] = true;
  body["top_logprobs"] = kTopLogprobs;
  body["enforced_str"] = content;
  return body;
}

}  // namespace api::validation
