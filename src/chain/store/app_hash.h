// App-hash commitment (ARCHITECTURE §4.7, specified in docs/app-hash.md):
//   write_set_hash = SHA-256( for each (key, value|deleted) in ascending key order:
//                             uvarint(len(key)) || key || 0x01 || uvarint(len(value)) || value   (set)
//                             uvarint(len(key)) || key || 0x00                                   (deleted) )
//   app_hash(h)    = SHA-256( app_hash(h-1) || write_set_hash(h) ),  app_hash(-1) = 32 zero bytes,
// where "height -1" is the genesis state written by InitChain (its hash is app_hash(0)).
#pragma once

#include <string>

#include "chain/store/kv.h"

namespace chain::store {

std::string write_set_hash(const WriteSet& writes);
std::string next_app_hash(const std::string& previous_app_hash, const std::string& write_set_hash);

}  // namespace chain::store
