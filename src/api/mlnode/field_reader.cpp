#include "api/mlnode/field_reader.h"

#include <fmt/format.h>

namespace api::mlnode {
namespace {

using nlohmann::json;

const json& null_json() {
  static const json kNull;
  return kNull;
}

}  // namespace

MlNodeError bad_response(const std::string& route, const std::string& what) {
  MlNodeError e;
  e.kind = ErrorKind::kBadResponse;
  e.route = route;
  e.status = 200;
  e.message = fmt::format("{}: {}", route, what);
  return e;
}

FieldReader::FieldReader(const json& object, std::string route)
    : object_(object), route_(std::move(route)), error_(&own_error_) {
  if (!object_.is_object()) *error_ = bad_response(route_, "the body is not a JSON object");
}

FieldReader::FieldReader(const json& object, std::string route, std::string prefix,
                         std::optional<MlNodeError>* error)
    : object_(object), route_(std::move(route)), prefix_(std::move(prefix)), error_(error) {}

const json* FieldReader::find(const char* name, bool required) {
  if (error_->has_value() || !object_.is_object()) return nullptr;
  auto it = object_.find(name);
  if (it == object_.end() || it->is_null()) {
    if (required) invalid(name, "is missing");
    return nullptr;
  }
  return &*it;
}

bool FieldReader::expect(const json& value, bool ok, const char* name, const char* type) {
  if (!ok) invalid(name, fmt::format("must be {}, got {}", type, value.type_name()));
  return ok;
}

void FieldReader::invalid(const char* name, const std::string& why) {
  if (error_->has_value()) return;
  *error_ = bad_response(route_, fmt::format("field \"{}{}\" {}", prefix_, name, why));
}

std::string FieldReader::string(const char* name) {
  const json* v = find(name, true);
  return v && expect(*v, v->is_string(), name, "a string") ? v->get<std::string>() : std::string();
}

std::optional<std::string> FieldReader::optional_string(const char* name) {
  const json* v = find(name, false);
  if (!v || !expect(*v, v->is_string(), name, "a string")) return std::nullopt;
  return v->get<std::string>();
}

int64_t FieldReader::integer(const char* name) {
  const json* v = find(name, true);
  return v && expect(*v, v->is_number_integer(), name, "an integer") ? v->get<int64_t>() : 0;
}

std::optional<int64_t> FieldReader::optional_integer(const char* name) {
  const json* v = find(name, false);
  if (!v || !expect(*v, v->is_number_integer(), name, "an integer")) return std::nullopt;
  return v->get<int64_t>();
}

uint64_t FieldReader::count(const char* name) {
  const json* v = find(name, true);
  return v && expect(*v, v->is_number_unsigned(), name, "a non-negative integer") ? v->get<uint64_t>() : 0;
}

double FieldReader::number(const char* name) {
  const json* v = find(name, true);
  return v && expect(*v, v->is_number(), name, "a number") ? v->get<double>() : 0.0;
}

bool FieldReader::boolean(const char* name) {
  const json* v = find(name, true);
  return v && expect(*v, v->is_boolean(), name, "a boolean") && v->get<bool>();
}

std::vector<std::string> FieldReader::strings(const char* name) {
  std::vector<std::string> out;
  const json* v = find(name, true);
  if (!v || !expect(*v, v->is_array(), name, "an array of strings")) return out;
  for (const json& item : *v) {
    if (!expect(item, item.is_string(), name, "an array of strings")) return {};
    out.push_back(item.get<std::string>());
  }
  return out;
}

std::vector<int64_t> FieldReader::integers(const char* name) {
  std::vector<int64_t> out;
  const json* v = find(name, true);
  if (!v || !expect(*v, v->is_array(), name, "an array of integers")) return out;
  for (const json& item : *v) {
    if (!expect(item, item.is_number_integer(), name, "an array of integers")) return {};
    out.push_back(item.get<int64_t>());
  }
  return out;
}

FieldReader FieldReader::object(const char* name) {
  const json* v = find(name, true);
  if (v && !expect(*v, v->is_object(), name, "an object")) v = nullptr;
  return FieldReader(v ? *v : null_json(), route_, prefix_ + name + ".", error_);
}

Result<json> parse_object(const std::string& body, const std::string& route) {
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded()) return bad_response(route, "the body is not valid JSON");
  if (!j.is_object())
    return bad_response(route, fmt::format("the body must be a JSON object, got {}", j.type_name()));
  return j;
}

}  // namespace api::mlnode
