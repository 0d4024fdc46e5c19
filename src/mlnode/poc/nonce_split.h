// Which nonces a node computes: node i of n takes i, i+n, i+2n, ... so the nodes of one participant never overlap.
#pragma once

#include <cstdint>

#include "common/result.h"

namespace mlnode::poc {

struct NonceSplit {
  uint64_t node_id = 0;     // 0-based, < node_count
  uint64_t node_count = 1;

  // Rejects node_count < 1 and node_id outside [0, node_count) with a message saying what to send.
  static common::Result<NonceSplit> make(int64_t node_id, int64_t node_count);
  // The x-th nonce of this node (x = 0, 1, 2, ...).
  uint64_t nonce_at(uint64_t x) const { return node_id + x * node_count; }
};

}  // namespace mlnode::poc
