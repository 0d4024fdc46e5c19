// Process-wide logging (spdlog). Secrets never go through here.
#pragma once

#include <spdlog/spdlog.h>

namespace common {

// level: trace|debug|info|warn|error; name appears in every line ("inferenced", "dapi", "mlnode").
void init_logging(const std::string& name, const std::string& level = "info");

}  // namespace common
