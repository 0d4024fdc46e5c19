#include "api/epoch/model_args.h"

#include <cctype>
#include <set>

namespace api::epoch {
namespace {

bool is_key(const std::string& t) {
  if (t.size() >= 2 && t[0] == '-' && t[1] == '-') return true;
  return t.size() >= 2 && t[0] == '-' && std::isalpha(static_cast<unsigned char>(t[1]));
}

// One option as written: its key ("" for a stray value) and its tokens.
struct Option {
  std::string key;
  std::vector<std::string> tokens;
};

std::vector<Option> split_options(const std::vector<std::string>& args) {
  std::vector<Option> out;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& t = args[i];
    if (!is_key(t)) {
      out.push_back({"", {t}});
      continue;
    }
    if (auto eq = t.find('='); eq != std::string::npos) {
      out.push_back({t.substr(0, eq), {t}});
      continue;
    }
    Option o{t, {t}};
    if (i + 1 < args.size() && !is_key(args[i + 1])) o.tokens.push_back(args[++i]);
    out.push_back(std::move(o));
  }
  return out;
}

}  // namespace

std::vector<std::string> merge_model_args(const std::vector<std::string>& epoch_args,
                                          const std::vector<std::string>& local_args) {
  std::vector<std::string> out = epoch_args;
  std::set<std::string> epoch_keys;
  for (const Option& o : split_options(epoch_args)) {
    if (!o.key.empty()) epoch_keys.insert(o.key);
  }
  for (const Option& o : split_options(local_args)) {
    if (o.key.empty() || epoch_keys.count(o.key) != 0) continue;
    out.insert(out.end(), o.tokens.begin(), o.tokens.end());
  }
  return out;
}

}  // namespace api::epoch
