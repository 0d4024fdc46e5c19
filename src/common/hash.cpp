#include "common/hash.h"

#include <openssl/evp.h>

#include <stdexcept>

namespace common {

namespace {
std::string digest(const char* name, std::string_view data) {
  EVP_MD* md = EVP_MD_fetch(nullptr, name, nullptr);
  if (!md) throw std::runtime_error(std::string("OpenSSL has no ") + name + " digest");
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  int ok = EVP_Digest(data.data(), data.size(), out, &len, md, nullptr);
  EVP_MD_free(md);
  if (!ok) throw std::runtime_error(std::string(name) + " failed");
  return std::string(reinterpret_cast<char*>(out), len);
}
}  // namespace

std::string sha256(std::string_view data) {
  unsigned char out[32];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out, &len, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<char*>(out), 32);
}

std::string ripemd160(std::string_view data) { return digest("RIPEMD160", data); }

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
