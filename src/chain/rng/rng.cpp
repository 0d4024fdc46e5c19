#include "chain/rng/rng.h"

#include "chain/types/int128.h"
#include "common/bytes.h"
#include "common/hash.h"

namespace chain::rng {

std::string seed(std::string_view domain, std::string_view chain_id, uint64_t height, std::string_view last_block_hash) {
  std::string in;
  in.reserve(domain.size() + chain_id.size() + 10 + last_block_hash.size());
  in.append(domain).push_back('\0');
  in.append(chain_id).push_back('\0');
  in.append(common::be64(height));
  in.append(last_block_hash);
  return common::sha256(in);
}

uint64_t draw(std::string_view seed, uint64_t i) {
  std::string in(seed);
  in.append(common::be64(i));
  return common::get_be64(common::sha256(in).substr(0, 8));
}

size_t weighted_index(const std::vector<uint64_t>& weights, uint64_t d) {
  types::u128 total = 0;
  for (uint64_t w : weights) total += w;
  if (total == 0) return kNone;
  types::u128 r = types::u128(d) % total, cumulative = 0;
  for (size_t k = 0; k < weights.size(); ++k) {
    cumulative += weights[k];
    if (r < cumulative) return k;
  }
  return kNone;  // unreachable: r < total
}

}  // namespace chain::rng
