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

const std::vector<double>& Metrics::latency_buckets() {
  static const std::vector<double> b = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
                                        2.5,   5,    10,    30,   60,  120,  300};
  return b;
}

void Metrics::histogram_observe(const std::string& name, const std::string& help, const Labels& labels,
                                double value, const std::vector<double>& bounds) {
  std::lock_guard lock(mu_);
  auto& f = families_[name];
  if (f.type.empty()) {
    f.type = "histogram";
    f.help = help;
    f.bounds = bounds;
  }
  if (f.type != "histogram") return;
  auto& h = f.histograms[render_labels(labels)];
  if (h.counts.empty()) {
    h.labels = labels;
    h.counts.assign(f.bounds.size() + 1, 0);
  }
  size_t i = 0;
  while (i < f.bounds.size() && value > f.bounds[i]) ++i;
  ++h.counts[i];
  h.sum += value;
  ++h.count;
}

uint64_t Metrics::counter_value(const std::string& name, const Labels& labels) const {
  std::lock_guard lock(mu_);
  auto it = families_.find(name);
  if (it == families_.end()) return 0;
  auto s = it->second.series.find(render_labels(labels));
  return s == it->second.series.end() ? 0 : static_cast<uint64_t>(s->second);
}

namespace {

std::string number(double value) {
  char buf[64];
  if (std::floor(value) == value && std::fabs(value) < 1e15) {
    std::snprintf(buf, sizeof buf, "%.0f", value);
  } else {
    std::snprintf(buf, sizeof buf, "%.6g", value);
  }
  return buf;
}

}  // namespace

std::string Metrics::render() const {
  std::lock_guard lock(mu_);
  std::string out;
  for (const auto& [name, f] : families_) {
    out += "# HELP " + name + " " + f.help + "\n# TYPE " + name + " " + f.type + "\n";
    for (const auto& [labels, value] : f.series) out += name + labels + " " + number(value) + "\n";
    for (const auto& [labels, h] : f.histograms) {
      uint64_t cumulative = 0;
      for (size_t i = 0; i < h.counts.size(); ++i) {
        cumulative += h.counts[i];
        Labels with_le = h.labels;
        with_le.emplace_back("le", i < f.bounds.size() ? number(f.bounds[i]) : "+Inf");
        out +=
            name + "_bucket" + render_labels(with_le) + " " + number(static_cast<double>(cumulative)) + "\n";
      }
      out += name + "_sum" + labels + " " + number(h.sum) + "\n";
      out += name + "_count" + labels + " " + number(static_cast<double>(h.count)) + "\n";
    }
  }
  return out;
}

}  // namespace api::server
