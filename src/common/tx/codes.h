// Result codes returned in tx results and CheckTx (0 = success). Numbers follow the Cosmos SDK where one
// exists. They are part of the tx protocol: the chain sets them and clients (dapi, the CLI) act on them.
#pragma once

#include <cstdint>
#include <string_view>

namespace common::tx::codes {

inline constexpr uint32_t kOk = 0;
inline constexpr uint32_t kInternal = 1;  // the node failed, not the input (Cosmos: undefined codespace, 1)
inline constexpr uint32_t kTxDecode = 2;
inline constexpr uint32_t kUnauthorized = 4;
inline constexpr uint32_t kInsufficientFunds = 5;
inline constexpr uint32_t kUnknownRequest = 6;
inline constexpr uint32_t kInvalidAddress = 7;
inline constexpr uint32_t kInvalidPubKey = 8;
inline constexpr uint32_t kUnknownAddress = 9;
inline constexpr uint32_t kInvalidCoins = 10;
inline constexpr uint32_t kInvalidRequest = 18;
inline constexpr uint32_t kTxTooLarge = 21;
inline constexpr uint32_t kInvalidHeight = 26;
inline constexpr uint32_t kInvalidChainId = 28;
inline constexpr uint32_t kTxTimeoutHeight = 30;
inline constexpr uint32_t kWrongSequence = 32;
inline constexpr uint32_t kNotFound = 38;
inline constexpr uint32_t kMempoolFull = 20;
inline constexpr uint32_t kTxInMempoolCache = 19;

// The codespace a code belongs to (docs/errors.md): "" for success, "sdk" for the Cosmos SDK codes above. A
// code is never reused for another kind; a module-specific kind gets a new code in the "inference" codespace
// (1000 and up) when a client must tell it apart.
inline constexpr std::string_view kCodespaceSdk = "sdk";
inline constexpr std::string_view kCodespaceInference = "inference";
constexpr std::string_view codespace_of(uint32_t code) {
  if (code == kOk) return "";
  return code >= 1000 && code < 1000000 ? kCodespaceInference : kCodespaceSdk;
}

}  // namespace common::tx::codes
