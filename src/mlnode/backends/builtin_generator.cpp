#include "mlnode/backends/builtin_generator.h"

#include <algorithm>
#include <array>

#include <fmt/format.h>

#include "common/bytes.h"
#include "common/hash.h"
#include "mlnode/backends/tokenizer.h"
#include "mlnode/poc/seeded_rng.h"

namespace mlnode::backends {
namespace {

// Every word is at most 8 letters so that it is exactly one tokenizer piece.
constexpr std::array<const char*, 48> kWords = {
    "the",    "network", "node",    "model",  "compute", "proof",   "epoch",  "weight",  "block",  "chain",
    "token",  "answer",  "quickly", "every",  "small",   "large",   "graph",  "signal",  "value",  "result",
    "stable", "random",  "seed",    "vector", "layer",   "output",  "input",  "request", "server", "client",
    "memory", "cache",   "stream",  "batch",  "version", "upgrade", "proxy",  "route",   "health", "state",
    "infer",  "verify",  "reward",  "height", "hash",    "nonce",   "target", "distance"};

// Deterministic log-probability of `token` at `position` for the prompt identified by `context`.
double logprob_of(const std::string& context, std::size_t position, const std::string& token) {
  const std::string h = common::sha256(context + "\x1f" + std::to_string(position) + "\x1f" + token);
  const uint64_t v = common::get_be64(h);
  return -0.001 - static_cast<double>(v % 3000) / 1000.0;
}

std::string word_token(poc::SeededRng& rng, bool sentence_start, bool first) {
  std::string w = kWords[rng.below(kWords.size())];
  if (sentence_start) w[0] = static_cast<char>(w[0] - 'a' + 'A');
  return first ? w : " " + w;
}

}  // namespace

std::string Generation::content() const {
  std::string out;
  for (const auto& t : tokens) out += t.text;
  return out;
}

void apply_stop(Generation& g, const std::vector<std::string>& stop) {
  if (stop.empty()) return;
  const std::string text = g.content();
  std::size_t cut = std::string::npos;
  for (const auto& s : stop) cut = std::min(cut, text.find(s));
  if (cut == std::string::npos) return;
  std::size_t offset = 0;
  std::size_t keep = 0;
  for (; keep < g.tokens.size(); ++keep) {
    const std::size_t len = g.tokens[keep].text.size();
    if (offset + len > cut) {
      if (cut > offset) {
        g.tokens[keep].text.resize(cut - offset);
        ++keep;
      }
      break;
    }
    offset += len;
  }
  g.tokens.resize(keep);
  g.finish_reason = "stop";
}

Generation generate(const ChatRequest& request, int64_t choice_index) {
  Generation g;
  const std::string prompt = render_chat(request.messages);
  g.prompt_tokens = static_cast<int64_t>(tokenize_text(prompt).size());
  // Greedy (temperature 0) ignores the seed and the choice; otherwise both pick the stream. Temperature 1 and
  // choice 0 keep the context of earlier versions, so their outputs are unchanged.
  std::string context = request.model + "\x1e" + prompt + "\x1e";
  if (request.temperature == 0) {
    context += "greedy";
  } else {
    context += std::to_string(request.seed.value_or(0));
    if (request.temperature != 1.0)
      context += fmt::format(
          "\x1e"
          "t={}",
          request.temperature);
    if (choice_index > 0)
      context += fmt::format(
          "\x1e"
          "c={}",
          choice_index);
  }
  poc::SeededRng rng(context);

  std::vector<std::string> texts;
  const int64_t limit = request.max_tokens.value_or(kMaxCompletionTokens);
  if (request.enforced_str) {
    texts = tokenize_text(*request.enforced_str);
    g.finish_reason = "stop";
  } else {
    const int64_t wanted = kMinCompletionTokens +
                           static_cast<int64_t>(rng.below(kMaxCompletionTokens - kMinCompletionTokens + 1));
    const int64_t n = std::min(wanted, limit);
    g.finish_reason = n < wanted ? "length" : "stop";
    bool sentence_start = true;
    for (int64_t i = 0; i < n; ++i) {
      const bool end_sentence = (i == wanted - 1) || (!sentence_start && rng.below(8) == 0);
      if (end_sentence && i > 0) {
        texts.emplace_back(i == wanted - 1 ? "." : (rng.below(3) == 0 ? "," : "."));
        sentence_start = texts.back() == ".";
      } else {
        texts.push_back(word_token(rng, sentence_start, i == 0));
        sentence_start = false;
      }
    }
  }

  const int top_n = request.logprobs ? request.top_logprobs : 0;
  for (std::size_t pos = 0; pos < texts.size(); ++pos) {
    GeneratedToken t{texts[pos], logprob_of(context, pos, texts[pos]), {}};
    if (top_n > 0) {
      t.top.push_back({t.text, t.logprob});
      for (int k = 0; static_cast<int>(t.top.size()) < top_n && k < static_cast<int>(kWords.size()); ++k) {
        const std::string alt =
            std::string(" ") + kWords[(pos * 7 + static_cast<std::size_t>(k) * 5) % kWords.size()];
        if (alt == t.text) continue;
        t.top.push_back({alt, logprob_of(context, pos, alt)});
      }
      std::stable_sort(t.top.begin(), t.top.end(),
                       [](const auto& a, const auto& b) { return a.logprob > b.logprob; });
    }
    g.tokens.push_back(std::move(t));
  }
  if (!request.enforced_str) apply_stop(g, request.stop);
  return g;
}

}  // namespace mlnode::backends
