#include "common/hash.h"

#include <openssl/evp.h>

#include <stdexcept>

namespace common {

namespace {
// Fetched once: fetching a digest implementation is far slower than hashing a public key.
const EVP_MD* ripemd160_md() {
  static const EVP_MD* md = [] {
    EVP_MD* m = EVP_MD_fetch(nullptr, "RIPEMD160", nullptr);
    if (!m) throw std::runtime_error("OpenSSL has no RIPEMD160 digest");
    return m;
  }();
  return md;
}
}  // namespace

std::string sha256(std::string_view data) {
  unsigned char out[32];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out, &len, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<char*>(out), 32);
}

std::string ripemd160(std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!EVP_Digest(data.data(), data.size(), out, &len, ripemd160_md(), nullptr)) {
    throw std::runtime_error("RIPEMD160 failed");
  }
  return std::string(reinterpret_cast<char*>(out), len);
}

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(ctx_), EVP_sha256(), nullptr);
}
Sha256::~Sha256() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_)); }
Sha256& Sha256::update(std::string_view data) {
  EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), data.data(), data.size());
  return *this;
}
std::string Sha256::finish() {
  unsigned char out[32];
  unsigned int len = 0;
  EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(ctx_), out, &len);
  return std::string(reinterpret_cast<char*>(out), 32);
}

}  // namespace common
