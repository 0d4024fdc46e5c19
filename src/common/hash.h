#pragma once

#include <string>
#include <string_view>

namespace common {

std::string sha256(std::string_view data);     // 32 raw bytes
std::string ripemd160(std::string_view data);  // 20 raw bytes

// Incremental SHA-256 for hashing long canonical encodings without building them in memory.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  Sha256& update(std::string_view data);
  std::string finish();  // 32 raw bytes

 private:
  void* ctx_;
};

}  // namespace common
