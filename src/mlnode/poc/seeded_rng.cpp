#include "mlnode/poc/seeded_rng.h"

#include <cmath>
#include <numbers>

#include "common/bytes.h"
#include "common/hash.h"

namespace mlnode::poc {
namespace {

uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

SeededRng::SeededRng(const std::string& seed) {
  const std::string digest = common::sha256(seed);
  for (int i = 0; i < 4; ++i) s_[i] = common::get_be64(std::string_view(digest).substr(8 * i, 8));
  if ((s_[0] | s_[1] | s_[2] | s_[3]) == 0) s_[0] = 1;  // xoshiro must not start from all zeros
}

uint64_t SeededRng::next_u64() {
  const uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

double SeededRng::uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

double SeededRng::standard_normal() {
  if (has_spare_) {
    has_spare_ = false;
    return spare_;
  }
  double u1 = uniform();
  while (u1 <= 0.0) u1 = uniform();
  const double u2 = uniform();
  const double r = std::sqrt(-2.0 * std::log(u1));
  const double theta = 2.0 * std::numbers::pi * u2;
  spare_ = r * std::sin(theta);
  has_spare_ = true;
  return r * std::cos(theta);
}

uint64_t SeededRng::below(uint64_t n) {
  const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  uint64_t v = next_u64();
  while (v >= limit) v = next_u64();
  return v % n;
}

}  // namespace mlnode::poc
