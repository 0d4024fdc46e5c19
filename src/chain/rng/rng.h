// Chain RNG (ARCHITECTURE §7.9; docs/rng.md). Pure, integer-only, reproducible from the documented test vectors:
//   seed   = SHA-256(domain || 0x00 || chain_id || 0x00 || be64(height) || last_block_hash)
//   draw i = big-endian u64 of the first 8 bytes of SHA-256(seed || be64(i))
//   weighted choice: r = draw mod Σw (128-bit); the first index k (in the caller's sorted order) with r < Σ_{j<=k} w_j
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace chain::rng {

inline constexpr size_t kNone = static_cast<size_t>(-1);

std::string seed(std::string_view domain, std::string_view chain_id, uint64_t height, std::string_view last_block_hash);
uint64_t draw(std::string_view seed, uint64_t i);
// Index chosen by `draw` among `weights` (zero weights are never chosen); kNone when Σw = 0.
size_t weighted_index(const std::vector<uint64_t>& weights, uint64_t draw);

// A stream of draws 0, 1, 2, ... over one seed.
class Stream {
 public:
  explicit Stream(std::string seed) : seed_(std::move(seed)) {}
  uint64_t next() { return draw(seed_, counter_++); }
  uint64_t used() const { return counter_; }
  const std::string& seed_bytes() const { return seed_; }

 private:
  std::string seed_;
  uint64_t counter_ = 0;
};

}  // namespace chain::rng
