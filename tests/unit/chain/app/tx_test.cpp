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
