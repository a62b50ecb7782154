// RemotePtr<T>: an address in the tracee's address space, typed by what it
// points to, never dereferenced in the tracer.
//
// Contract: a plain 64-bit value with pointer arithmetic in units of T (like
// rr's remote_ptr). It exists so that a tracee address can never be mixed up
// with a tracer pointer or with a plain integer by accident; conversions are
// explicit (as_int(), cast<U>()).
#pragma once

#include <compare>
#include <cstdint>
#include <type_traits>

namespace hwslice {

template <typename T>
class RemotePtr {
 public:
  constexpr RemotePtr() = default;
  constexpr explicit RemotePtr(uint64_t addr) : addr_(addr) {}

  constexpr uint64_t as_int() const { return addr_; }
  constexpr bool is_null() const { return addr_ == 0; }

  template <typename U>
  constexpr RemotePtr<U> cast() const { return RemotePtr<U>(addr_); }

  constexpr RemotePtr operator+(int64_t n) const { return RemotePtr(addr_ + n * stride()); }
  constexpr RemotePtr operator-(int64_t n) const { return RemotePtr(addr_ - n * stride()); }
  constexpr auto operator<=>(const RemotePtr&) const = default;

 private:
  static constexpr int64_t stride() {
    if constexpr (sizeof(T*) && !std::is_void_v<T>) return sizeof(T);
    else return 1;
  }
  uint64_t addr_ = 0;
};

using RemoteAddr = RemotePtr<void>;

}  // namespace hwslice
