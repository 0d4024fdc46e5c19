#pragma once

namespace chain::types {
// 128-bit intermediates for exact integer math (ARCHITECTURE §4.2); __extension__ keeps -Wpedantic quiet.
__extension__ typedef unsigned __int128 u128;
__extension__ typedef __int128 i128;
}  // namespace chain::types
