#include "mlnode/metrics.h"

#include <fmt/format.h>

namespace mlnode {

std::string prometheus_metric(const std::string& name, const std::string& type, const std::string& labels, double value) {
  std::string out = fmt::format("# TYPE {} {}\n{}", name, type, name);
  if (!labels.empty()) out += "{" + labels + "}";
  out += fmt::format(" {}\n", value);
  return out;
}

}  // namespace mlnode
