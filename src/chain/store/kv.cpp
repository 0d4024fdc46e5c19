#include "chain/store/kv.h"

namespace chain::store {

std::string prefix_end(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    auto& last = reinterpret_cast<unsigned char&>(end.back());
    if (last != 0xff) {
      ++last;
      return end;
    }
    end.pop_back();
  }
  return end;
}

void KvReader::scan_prefix(std::string_view prefix, const ScanFn& fn) const { scan(prefix, prefix_end(prefix), fn); }

}  // namespace chain::store
