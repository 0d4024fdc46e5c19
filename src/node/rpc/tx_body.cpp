#include "node/rpc/tx_body.h"

#include <nlohmann/json.hpp>

#include "common/bytes.h"
#include "common/json_text.h"

namespace node::rpc {

common::Result<std::string, BodyError> tx_bytes_from_body(const std::string& body) {
  auto parsed = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    return BodyError{"invalid_json", "body must be a JSON object {\"tx\": \"<base64 signed tx>\"}"};
  }
  for (const auto& [key, value] : parsed.items()) {
    if (key != "tx") {
      return BodyError{"unknown_field", "unknown field \"" + common::printable(key, 64) +
                                            "\"; the body is {\"tx\": \"<base64 signed tx>\"}"};
    }
  }
  auto it = parsed.find("tx");
  if (it == parsed.end() || !it->is_string()) {
    return BodyError{"missing_tx", "field \"tx\" (base64 of the signed tx bytes) is required"};
  }
  auto bytes = common::from_base64(it->get_ref<const std::string&>());
  if (!bytes) return BodyError{"invalid_base64", "field \"tx\" is not valid base64"};
  return *bytes;
}

}  // namespace node::rpc
