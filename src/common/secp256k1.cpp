#include "common/secp256k1.h"

#include <openssl/rand.h>
#include <secp256k1.h>

#include <stdexcept>

namespace common::secp256k1 {

namespace {
const secp256k1_context* context() {
  static secp256k1_context* ctx = [] {
    secp256k1_context* c = secp256k1_context_create(SECP256K1_CONTEXT_SIGN | SECP256K1_CONTEXT_VERIFY);
    unsigned char seed[32];
    if (RAND_bytes(seed, sizeof seed) != 1 || !secp256k1_context_randomize(c, seed)) {
      throw std::runtime_error("secp256k1: cannot randomize context");
    }
    return c;
  }();
  return ctx;
}
const unsigned char* u8(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }
}  // namespace

PrivateKey generate_private_key() {
  for (;;) {
    std::string bytes(32, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), 32) != 1) {
      throw std::runtime_error("secp256k1: OS random source failed");
    }
    if (secp256k1_ec_seckey_verify(context(), u8(bytes))) return PrivateKey{bytes};
  }
}

std::optional<PrivateKey> private_key_from_bytes(std::string_view bytes) {
  if (bytes.size() != 32 || !secp256k1_ec_seckey_verify(context(), u8(bytes))) return std::nullopt;
  return PrivateKey{std::string(bytes)};
}

std::string public_key(const PrivateKey& key) {
  secp256k1_pubkey pub;
  if (!secp256k1_ec_pubkey_create(context(), &pub, u8(key.bytes))) throw std::runtime_error("invalid private key");
  unsigned char out[33];
  size_t len = sizeof out;
  secp256k1_ec_pubkey_serialize(context(), out, &len, &pub, SECP256K1_EC_COMPRESSED);
  return std::string(reinterpret_cast<char*>(out), len);
}

std::string sign(const PrivateKey& key, std::string_view hash32) {
  if (hash32.size() != 32) throw std::invalid_argument("sign: hash must be 32 bytes");
  secp256k1_ecdsa_signature sig;
  if (!secp256k1_ecdsa_sign(context(), &sig, u8(hash32), u8(key.bytes), nullptr, nullptr)) {
    throw std::runtime_error("secp256k1: signing failed");
  }
  unsigned char out[64];
  secp256k1_ecdsa_signature_serialize_compact(context(), out, &sig);
  return std::string(reinterpret_cast<char*>(out), 64);
}

bool verify(std::string_view public_key33, std::string_view hash32, std::string_view signature64) {
  if (public_key33.size() != 33 || hash32.size() != 32 || signature64.size() != 64) return false;
  secp256k1_pubkey pub;
  if (!secp256k1_ec_pubkey_parse(context(), &pub, u8(public_key33), public_key33.size())) return false;
  secp256k1_ecdsa_signature sig;
  if (!secp256k1_ecdsa_signature_parse_compact(context(), &sig, u8(signature64))) return false;
  // High-S signatures are malleable; reject them instead of normalising so each tx has one valid encoding.
  secp256k1_ecdsa_signature normalized;
  if (secp256k1_ecdsa_signature_normalize(context(), &normalized, &sig)) return false;
  return secp256k1_ecdsa_verify(context(), &sig, u8(hash32), &pub) == 1;
}

bool is_valid_public_key(std::string_view public_key33) {
  secp256k1_pubkey pub;
  return public_key33.size() == 33 &&
         secp256k1_ec_pubkey_parse(context(), &pub, u8(public_key33), public_key33.size()) == 1;
}

}  // namespace common::secp256k1
