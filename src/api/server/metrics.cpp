#include "api/server/metrics.h"

#include <cmath>
#include <cstdio>

namespace api::server {

std::string Metrics::render_labels(const Labels& labels) {
  if (labels.empty()) return "";
  std::string out = "{";
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i) out += ",";
    out += labels[i].first + "=\"";
    for (char c : labels[i].second) {
      if (c == '\\' || c == '"') {
        out += '\\';
        out += c;
      } else if (c == '\n') {
        out += "\\n";
      } else {
        out += c;
      }
    }
    out += "\"";
  }
  return out + "}";
}

void Metrics::counter_add(const std::string& name, const std::string& help, const Labels& labels,
                          uint64_t delta) {
  std::lock_guard lock(mu_);
  auto& f = families_[name];
  if (f.type.empty()) {
    f.type = "counter";
    f.help = help;
  }
  f.series[render_labels(labels)] += static_cast<double>(delta);
}

void Metrics::gauge_set(const std::string& name, const std::string& help, const Labels& labels,
                        double value) {
  std::lock_guard lock(mu_);
  auto& f = families_[name];
  if (f.type.empty()) {
    f.type = "gauge";
    f.help = help;
  }
  f.series[render_labels(labels)] = value;
}

void Metrics::gauge_clear(const std::string& name) {
  std::lock_guard lock(mu_);
  auto it = families_.find(name);
  if (it != families_.end()) it->second.series.clear();
}

uint64_t Metrics::counter_value(const std::string& name, const Labels& labels) const {
  std::lock_guard lock(mu_);
  auto it = families_.find(name);
  if (it == families_.end()) return 0;
  auto s = it->second.series.find(render_labels(labels));
  return s == it->second.series.end() ? 0 : static_cast<uint64_t>(s->second);
}

std::string Metrics::render() const {
  std::lock_guard lock(mu_);
  std::string out;
  for (const auto& [name, f] : families_) {
    out += "# HELP " + name + " " + f.help + "\n# TYPE " + name + " " + f.type + "\n";
    for (const auto& [labels, value] : f.series) {
      char buf[64];
      if (std::floor(value) == value && std::fabs(value) < 1e15) {
        std::snprintf(buf, sizeof buf, "%.0f", value);
      } else {
        std::snprintf(buf, sizeof buf, "%.6g", value);
      }
      out += name + labels + " " + buf + "\n";
    }
  }
  return out;
}

}  // namespace api::server
