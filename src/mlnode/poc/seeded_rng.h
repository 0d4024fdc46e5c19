// Deterministic random numbers seeded by a string (block hash, public key, nonce...).
// The seed string is hashed with SHA-256 and the digest initialises a xoshiro256** generator,
// so every engine on every machine draws the same sequence for the same seed string.
#pragma once

#include <cstdint>
#include <string>

namespace mlnode::poc {

class SeededRng {
 public:
  explicit SeededRng(const std::string& seed);
  uint64_t next_u64();
  double uniform();           // [0, 1)
  double standard_normal();   // mean 0, stddev 1 (Box-Muller)
  uint64_t below(uint64_t n);  // uniform in [0, n), n > 0, no modulo bias

 private:
  uint64_t s_[4];
  bool has_spare_ = false;
  double spare_ = 0;
};

}  // namespace mlnode::poc
