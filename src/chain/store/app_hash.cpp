#include "chain/store/app_hash.h"

#include "common/bytes.h"
#include "common/hash.h"

namespace chain::store {

std::string write_set_hash(const WriteSet& writes) {
  common::Sha256 hasher;
  std::string buf;
  for (auto& [key, value] : writes) {
    buf.clear();
    common::put_uvarint(buf, key.size());
    buf += key;
    if (value) {
      buf.push_back('\x01');
      common::put_uvarint(buf, value->size());
      hasher.update(buf);
      hasher.update(*value);
    } else {
      buf.push_back('\x00');
      hasher.update(buf);
    }
  }
  return hasher.finish();
}

std::string next_app_hash(const std::string& previous_app_hash, const std::string& write_set_hash) {
  std::string prev = previous_app_hash.empty() ? std::string(32, '\0') : previous_app_hash;
  return common::sha256(prev + write_set_hash);
}

}  // namespace chain::store
