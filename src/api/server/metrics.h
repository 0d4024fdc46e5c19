// Prometheus metrics of dapi (text exposition format 0.0.4), served at GET /metrics on the public server.
// Counters only go up; gauges are set. Names and labels are listed in docs/dapi.md. Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace api::server {

using Labels = std::vector<std::pair<std::string, std::string>>;  // rendered in the given order

class Metrics {
 public:
  // `help` is recorded on first use of a name.
  void counter_add(const std::string& name, const std::string& help, const Labels& labels = {},
                   uint64_t delta = 1);
  void gauge_set(const std::string& name, const std::string& help, const Labels& labels, double value);
  // Drops every series of a gauge (before re-setting the current set, e.g. per-node states).
  void gauge_clear(const std::string& name);
  // Records one observation in a histogram (`bounds`: the upper bounds of its buckets, ascending, fixed on
  // first use of the name; rendered as name_bucket{...,le="..."} cumulative counts with le="+Inf", name_sum
  // and name_count).
  void histogram_observe(const std::string& name, const std::string& help, const Labels& labels, double value,
                         const std::vector<double>& bounds = latency_buckets());
  // Seconds, 5 ms to 5 min: the request path's latencies.
  static const std::vector<double>& latency_buckets();
  uint64_t counter_value(const std::string& name, const Labels& labels = {}) const;
  std::string render() const;

 private:
  struct Histogram {
    Labels labels;
    std::vector<uint64_t> counts;  // per bucket (not cumulative), then one for +Inf
    double sum = 0;
    uint64_t count = 0;
  };
  struct Family {
    std::string type;  // "counter" | "gauge" | "histogram"
    std::string help;
    std::map<std::string, double> series;         // rendered label set -> value
    std::vector<double> bounds;                   // histogram
    std::map<std::string, Histogram> histograms;  // rendered label set -> histogram
  };
  static std::string render_labels(const Labels& labels);
  mutable std::mutex mu_;
  std::map<std::string, Family> families_;
};

}  // namespace api::server
