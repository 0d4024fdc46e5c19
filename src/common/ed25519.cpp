#include "common/ed25519.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <memory>
#include <stdexcept>

namespace common::ed25519 {

namespace {
using PKey = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;
const unsigned char* u8(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }
}  // namespace

std::optional<KeyPair> from_seed(std::string_view seed32) {
  if (seed32.size() != 32) return std::nullopt;
  PKey key(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, u8(seed32), 32), EVP_PKEY_free);
  if (!key) return std::nullopt;
  unsigned char pub[32];
  size_t len = sizeof pub;
  if (EVP_PKEY_get_raw_public_key(key.get(), pub, &len) != 1) return std::nullopt;
  return KeyPair{std::string(seed32), std::string(reinterpret_cast<char*>(pub), len)};
}

KeyPair generate() {
  std::string seed(32, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(seed.data()), 32) != 1) {
    throw std::runtime_error("ed25519: OS random source failed");
  }
  return *from_seed(seed);
}

std::string sign(const KeyPair& pair, std::string_view message) {
  PKey key(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, u8(pair.private_seed), 32), EVP_PKEY_free);
  MdCtx ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  unsigned char sig[64];
  size_t len = sizeof sig;
  if (!key || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), sig, &len, u8(message), message.size()) != 1) {
    throw std::runtime_error("ed25519: signing failed");
  }
  return std::string(reinterpret_cast<char*>(sig), len);
}

bool verify(std::string_view public_key32, std::string_view message, std::string_view signature64) {
  if (public_key32.size() != 32 || signature64.size() != 64) return false;
  PKey key(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, u8(public_key32), 32), EVP_PKEY_free);
  MdCtx ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!key || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1) return false;
  return EVP_DigestVerify(ctx.get(), u8(signature64), 64, u8(message), message.size()) == 1;
}

}  // namespace common::ed25519
