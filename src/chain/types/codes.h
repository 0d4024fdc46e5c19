// The chain's result codes are the tx protocol's (common/tx/codes.h); chain code names them chain::codes.
#pragma once

#include "common/tx/codes.h"

namespace chain {
namespace codes = common::tx::codes;
}  // namespace chain
