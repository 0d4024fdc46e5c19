#include "mlnode/poc/nonce_split.h"

#include <fmt/format.h>

namespace mlnode::poc {

common::Result<NonceSplit> NonceSplit::make(int64_t node_id, int64_t node_count) {
  if (node_count < 1) {
    return common::make_error(400, fmt::format("node_count must be >= 1 (got {}); send the number of ML nodes "
                                               "generating for this participant", node_count));
  }
  if (node_id < 0 || node_id >= node_count) {
    return common::make_error(400, fmt::format("node_id must be in [0, node_count) = [0, {}) (got {}); node ids are "
                                               "0-based so that ranges of different nodes never overlap",
                                               node_count, node_id));
  }
  return NonceSplit{static_cast<uint64_t>(node_id), static_cast<uint64_t>(node_count)};
}

}  // namespace mlnode::poc
