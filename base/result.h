// Result<T>: a value or an error that carries errno and a one-line message.
//
// Contract: every fallible operation in the tracer, slicer and runtime
// libraries returns Result<T> (or Status for no value) instead of throwing, so
// the CLI can print exactly one "hwslice: error: ..." line and clean up.
// The message is written for the user: it names the object (file, pid,
// address) and, when errno is set, ends with strerror(errno).
#pragma once

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>
#include <variant>

namespace hwslice {

class Error {
 public:
  Error(std::string message, int err = 0) : message_(std::move(message)), errno_(err) {}

  // Builds an error from the current errno: "what: strerror(errno)".
  static Error from_errno(const std::string& what) { return from_errno(what, errno); }
  static Error from_errno(const std::string& what, int err) {
    return Error(what + ": " + std::strerror(err), err);
  }

  const std::string& message() const { return message_; }
  // 0 when the failure is not a system-call failure.
  int err() const { return errno_; }

  // Prefixes context: Error("open x").wrap("reading trace") -> "reading trace: open x".
  Error wrap(const std::string& context) const { return Error(context + ": " + message_, errno_); }

 private:
  std::string message_;
  int errno_;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}
  Result(Error error) : v_(std::move(error)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

// Result for operations without a value.
struct Ok {};
using Status = Result<Ok>;
inline Status ok_status() { return Ok{}; }

}  // namespace hwslice

// Propagates an error from an expression returning Result/Status.
#define HWSLICE_TRY(expr)                              \
  do {                                                 \
    auto hwslice_try_r_ = (expr);                      \
    if (!hwslice_try_r_) return hwslice_try_r_.error(); \
  } while (0)
