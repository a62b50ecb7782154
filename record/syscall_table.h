// The riscv64 Linux syscall numbering (the generic asm-generic table plus the
// riscv-specific 244-259), generated at configure time from the riscv64
// kernel header asm/unistd_64.h (see gen_syscall_names.cmake).
//
// Contract: pure lookups, portable. Unknown numbers have no name; display
// uses "syscall_<nr>" like strace.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace hwslice::sys {

struct SyscallName {
  long nr;
  std::string_view name;
};

// Every syscall of the table, in number order.
std::span<const SyscallName> all_syscalls();
std::optional<long> number(std::string_view name);
// "" when the number is not in the table.
std::string_view name(long nr);
// name(nr), or "syscall_<nr>".
std::string display_name(long nr);

}  // namespace hwslice::sys
