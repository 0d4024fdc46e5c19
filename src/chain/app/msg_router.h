// Maps message type URLs to handlers. `check` is stateless validation (run in CheckTx and before execution);
// `execute` applies the message to the transaction's branch.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "chain/app/context.h"
#include "chain/types/address.h"
#include "chain/types/codes.h"
#include "common/result.h"
#include "common/tx/tx_codec.h"

namespace chain::app {

struct MsgHandler {
  std::function<common::Status(std::string_view bytes, const types::Address& signer, const std::string& hrp)>
      check;
  std::function<common::Status(Context& ctx, std::string_view bytes, const types::Address& signer)> execute;
};

class MsgRouter {
 public:
  void add(std::string type_url, MsgHandler handler) {
    handlers_.insert_or_assign(std::move(type_url), std::move(handler));
  }
  const MsgHandler* find(std::string_view type_url) const {
    auto it = handlers_.find(type_url);
    return it == handlers_.end() ? nullptr : &it->second;
  }

  // Registers a protobuf message type: bytes are parsed once per call and handed over typed.
  template <typename Msg>
  void add_typed(
      std::string type_url,
      std::function<common::Status(const Msg&, const types::Address&, const std::string& hrp)> check,
      std::function<common::Status(Context&, const Msg&, const types::Address&)> execute) {
    auto parse = [type_url](std::string_view bytes, Msg& msg) -> common::Status {
      if (bytes.size() > INT32_MAX || !msg.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
        return common::make_error(codes::kTxDecode, "cannot decode " + type_url);
      }
      // Only the canonical encoding of a message is accepted (issue 13 fault 6, see common::tx).
      if (!common::tx::is_canonical_encoding(msg, bytes)) {
        return common::make_error(codes::kTxDecode, type_url +
                                                        " is not canonically encoded (fields out of order or "
                                                        "repeated, non-minimal varints, explicit defaults or "
                                                        "unknown fields)");
      }
      return {};
    };
    add(type_url, MsgHandler{[parse, check](std::string_view bytes, const types::Address& signer,
                                            const std::string& hrp) -> common::Status {
                               Msg msg;
                               TRY_STATUS(parse(bytes, msg));
                               return check(msg, signer, hrp);
                             },
                             [parse, check, execute](Context& ctx, std::string_view bytes,
                                                     const types::Address& signer) -> common::Status {
                               Msg msg;
                               TRY_STATUS(parse(bytes, msg));
                               TRY_STATUS(check(msg, signer, ctx.hrp()));
                               return execute(ctx, msg, signer);
                             }});
  }

 private:
  std::map<std::string, MsgHandler, std::less<>> handlers_;
};

}  // namespace chain::app
