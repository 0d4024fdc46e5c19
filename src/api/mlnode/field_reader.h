// Typed reads of a response body. The first missing or wrong-typed field becomes a bad_response error naming
// the route and the field; later reads return defaults, so a parser reads everything and checks error() once.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/mlnode/error.h"

namespace api::mlnode {

class FieldReader {
 public:
  FieldReader(const nlohmann::json& object, std::string route);
  FieldReader(const FieldReader&) = delete;
  FieldReader& operator=(const FieldReader&) = delete;

  std::string string(const char* name);
  std::optional<std::string> optional_string(const char* name);
  int64_t integer(const char* name);
  std::optional<int64_t> optional_integer(const char* name);
  uint64_t count(const char* name);  // a non-negative integer
  double number(const char* name);
  bool boolean(const char* name);
  std::vector<std::string> strings(const char* name);
  std::vector<int64_t> integers(const char* name);
  // Reads a nested object; errors of the child name "parent.child" and land in this reader.
  FieldReader object(const char* name);
  // Records a field whose value has the right type but is not acceptable.
  void invalid(const char* name, const std::string& why);

  const std::optional<MlNodeError>& error() const { return *error_; }

 private:
  FieldReader(const nlohmann::json& object, std::string route, std::string prefix,
              std::optional<MlNodeError>* error);
  const nlohmann::json* find(const char* name, bool required);
  bool expect(const nlohmann::json& value, bool ok, const char* name, const char* type);

  const nlohmann::json& object_;
  std::string route_;
  std::string prefix_;  // "pow_status." for a nested reader
  std::optional<MlNodeError> own_error_;
  std::optional<MlNodeError>* error_;  // the root reader's slot
};

// A bad_response error: "<route>: <what>".
MlNodeError bad_response(const std::string& route, const std::string& what);
// Parses a body that must be a JSON object.
Result<nlohmann::json> parse_object(const std::string& body, const std::string& route);

}  // namespace api::mlnode
