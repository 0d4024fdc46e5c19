// Value-or-error return type used by consensus code and services (no exceptions for user input).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>

namespace common {

struct Error {
  uint32_t code = 1;  // non-zero; chain codes are listed in common/tx/codes.h
  std::string message;
};

// A value or an error; E lets a library carry its own error type (api::mlnode::MlNodeError).
template <typename T, typename E = Error>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(E error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  const T& value() const& { return std::get<0>(v_); }
  T& value() & { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }
  const E& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, E> v_;
};

struct Unit {};

template <typename E>
class [[nodiscard]] Result<void, E> {
 public:
  Result() = default;
  Result(E error) : error_(std::move(error)), ok_(false) {}  // NOLINT(google-explicit-constructor)
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const E& error() const { return error_; }

 private:
  E error_;
  bool ok_ = true;
};

using Status = Result<void>;

inline Error make_error(uint32_t code, std::string message) {
  return Error{code, std::move(message)};
}

}  // namespace common

// Propagates an error from an expression returning Result/Status.
#define TRY_STATUS(expr)                                \
  do {                                                  \
    auto _st = (expr);                                  \
    if (!_st.ok()) return ::common::Error(_st.error()); \
  } while (0)
