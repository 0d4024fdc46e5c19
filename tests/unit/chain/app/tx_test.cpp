#include "common/tx/tx_codec.h"

#include <gtest/gtest.h>

#include "app/test_chain.h"
#include "common/secp256k1.h"

using namespace chain;

TEST(Tx, EncodeDecodeSignVerifyRoundTrip) {
  auto from = test::make_account(1);
  auto to = test::make_account(2);
  std::string bytes = test::send_tx(from, to, 5);
  auto decoded = common::tx::decode_tx(bytes);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->body.messages_size(), 1);
  EXPECT_EQ(decoded->body.messages(0).type_url(), "/inference.bank.MsgSend");
  const auto& auth = decoded->tx.auth_info();
  EXPECT_EQ(auth.sequence(), 0u);
  std::string hash = common::tx::sign_hash(test::kChainId, decoded->tx.body(), auth.sequence());
  EXPECT_TRUE(common::secp256k1::verify(auth.public_key(), hash, decoded->tx.signature()));
  // The signature binds chain id and sequence.
  EXPECT_FALSE(common::secp256k1::verify(
      auth.public_key(), common::tx::sign_hash("other", decoded->tx.body(), 0), decoded->tx.signature()));
  EXPECT_FALSE(common::secp256k1::verify(auth.public_key(),
                                         common::tx::sign_hash(test::kChainId, decoded->tx.body(), 1),
                                         decoded->tx.signature()));
}

TEST(Tx, DecodeRejectsMalformedInput) {
  EXPECT_EQ(common::tx::decode_tx("").error().code, codes::kTxDecode);
  EXPECT_EQ(common::tx::decode_tx("\xff\xff\xff").error().code, codes::kTxDecode);
  inference::tx::TxBody no_messages;
  no_messages.set_memo("hello");
  inference::tx::Tx empty_body;
  empty_body.set_body(no_messages.SerializeAsString());
  EXPECT_EQ(common::tx::decode_tx(empty_body.SerializeAsString()).error().code, codes::kInvalidRequest);
}

TEST(Tx, HashIsUpperHexSha256) {
  EXPECT_EQ(common::tx::tx_hash_hex("abc"),
            "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD");
}

namespace {
// Protobuf wire pieces for re-encoded variants of a tx (tag = field << 3 | wire type).
std::string varint(uint64_t v) {
  std::string out;
  do {
    uint8_t b = v & 0x7f;
    v >>= 7;
    out.push_back(static_cast<char>(v ? b | 0x80 : b));
  } while (v);
  return out;
}
// The same value in `extra` more bytes than needed (0x80 continuation bytes, then 0x00).
std::string long_varint(uint64_t v, int extra) {
  std::string out = varint(v);
  out.back() = static_cast<char>(out.back() | 0x80);
  for (int i = 1; i < extra; ++i) out.push_back(static_cast<char>(0x80));
  out.push_back(0);
  return out;
}
std::string vfield(uint32_t n, uint64_t v) {
  return varint(uint64_t{n} << 3) + varint(v);
}
std::string lfield(uint32_t n, const std::string& p) {
  return varint(uint64_t{n} << 3 | 2) + varint(p.size()) + p;
}
}  // namespace

TEST(Tx, OnlyTheCanonicalEncodingIsAccepted) {
  // Issue 13 fault 6: every variant below carries the same body, key, sequence and a signature that verifies,
  // but other bytes and so another tx hash. Only the canonical bytes may be accepted.
  auto from = test::make_account(1);
  auto to = test::make_account(2);
  from.sequence = 7;
  const std::string tx = test::send_tx(from, to, 5);
  auto d = common::tx::decode_tx(tx);
  ASSERT_TRUE(d) << d.error().message;
  const std::string body = d->tx.body();
  const std::string key = d->tx.auth_info().public_key();
  const std::string sig = d->tx.signature();
  const std::string auth = lfield(1, key) + vfield(2, 7);
  ASSERT_EQ(lfield(1, body) + lfield(2, auth) + lfield(3, sig), tx);  // the canonical layout, field by field

  std::vector<std::pair<std::string, std::string>> variants = {
      {"unknown field at the end", tx + vfield(15, 1)},
      {"unknown field first", vfield(15, 1) + tx},
      {"unknown field in auth_info", lfield(1, body) + lfield(2, auth + lfield(9, "x")) + lfield(3, sig)},
      {"fields reordered", lfield(3, sig) + lfield(1, body) + lfield(2, auth)},
      {"auth_info fields reordered",
       lfield(1, body) + lfield(2, vfield(2, 7) + lfield(1, key)) + lfield(3, sig)},
      {"body given twice (last wins)",
       lfield(1, "junk") + lfield(1, body) + lfield(2, auth) + lfield(3, sig)},
      {"signature given twice", lfield(1, body) + lfield(2, auth) + lfield(3, sig) + lfield(3, sig)},
      {"auth_info split in two (merged)",
       lfield(1, body) + lfield(2, lfield(1, key)) + lfield(2, vfield(2, 7)) + lfield(3, sig)},
      {"non-minimal sequence varint",
       lfield(1, body) + lfield(2, lfield(1, key) + varint(2 << 3) + long_varint(7, 3)) + lfield(3, sig)},
      {"non-minimal length of body",
       varint(1 << 3 | 2) + long_varint(body.size(), 1) + body + lfield(2, auth) + lfield(3, sig)},
      {"non-minimal tag",
       long_varint(1 << 3 | 2, 1) + varint(body.size()) + body + lfield(2, auth) + lfield(3, sig)},
      {"explicit empty field",
       lfield(1, body) + lfield(2, auth) + lfield(3, sig) + lfield(3, "") + lfield(3, sig)},
  };
  for (const auto& [what, bytes] : variants) {
    ASSERT_NE(bytes, tx) << what;
    // The variant parses to the same content (what made it dangerous) ...
    inference::tx::Tx parsed;
    ASSERT_TRUE(parsed.ParseFromString(bytes)) << what;
    EXPECT_EQ(parsed.body(), body) << what;
    EXPECT_EQ(parsed.signature(), sig) << what;
    EXPECT_EQ(parsed.auth_info().sequence(), 7u) << what;
    // ... and is refused.
    auto r = common::tx::decode_tx(bytes);
    ASSERT_FALSE(r) << what;
    EXPECT_EQ(r.error().code, codes::kTxDecode) << what;
    EXPECT_NE(r.error().message.find("canonical"), std::string::npos) << what << ": " << r.error().message;
  }
  // Sequence 0 written explicitly is a default value the canonical encoding omits.
  auto zero = test::make_account(3);
  const std::string tx0 = test::send_tx(zero, to, 1);
  auto d0 = common::tx::decode_tx(tx0);
  ASSERT_TRUE(d0);
  std::string explicit_zero = lfield(1, d0->tx.body()) +
                              lfield(2, lfield(1, d0->tx.auth_info().public_key()) + vfield(2, 0)) +
                              lfield(3, d0->tx.signature());
  ASSERT_NE(explicit_zero, tx0);
  EXPECT_EQ(common::tx::decode_tx(explicit_zero).error().code, codes::kTxDecode);
  // The body is held to the same rule (a signer's client must not produce two encodings either).
  std::string body_variant = body + vfield(3, 0);  // explicit timeout_height 0
  inference::tx::Tx t;
  t.set_body(body_variant);
  *t.mutable_auth_info() = d->tx.auth_info();
  t.set_signature(sig);
  auto rb = common::tx::decode_tx(t.SerializeAsString());
  ASSERT_FALSE(rb);
  EXPECT_NE(rb.error().message.find("body is not canonically encoded"), std::string::npos)
      << rb.error().message;
}
