// The governance authority: the gov module account. Authority-only messages (MsgRegisterModel,
// MsgRemoveModel, MsgUpdateParams, MsgCreatePartialUpgrade) carry an `authority` field that must name this
// account and be the signer, which only happens when a passed proposal executes them (docs/governance.md).
#pragma once

#include <string>
#include <string_view>

#include "chain/types/address.h"
#include "chain/types/codes.h"
#include "common/result.h"

namespace chain::x::gov {

inline constexpr std::string_view kModuleName = "gov";

// Holds escrowed proposal deposits and signs the messages of passed proposals.
inline types::Address authority() {
  return types::module_address(kModuleName);
}

// Stateless check of an authority-only message: `authority_text` must be the gov module account and the
// signer.
inline common::Status check_authority(std::string_view msg_name, const std::string& authority_text,
                                      const types::Address& signer, const std::string& hrp) {
  std::string gov = types::to_bech32(hrp, authority());
  if (authority_text.empty()) {
    return common::make_error(
        codes::kInvalidAddress,
        std::string(msg_name) + ": authority is empty; it must be the gov module account " + gov);
  }
  auto parsed = types::parse_address(hrp, authority_text);
  if (!parsed)
    return common::make_error(parsed.error().code, std::string(msg_name) + ": " + parsed.error().message);
  if (*parsed != authority()) {
    return common::make_error(codes::kUnauthorized,
                              std::string(msg_name) + ": invalid authority " + authority_text +
                                  "; only the gov module account " + gov +
                                  " may send it: submit it inside a governance proposal");
  }
  if (signer != *parsed) {
    return common::make_error(codes::kUnauthorized,
                              std::string(msg_name) + ": signer " + types::to_bech32(hrp, signer) +
                                  " is not the authority " + gov +
                                  "; only a passed governance proposal can execute this message");
  }
  return {};
}

}  // namespace chain::x::gov
