#include "record/syscall_table.h"

#include <algorithm>
#include <array>

namespace hwslice::sys {

namespace {

constexpr SyscallName kTable[] = {
#define HWSLICE_SYSCALL(n, nr) {nr, #n},
#include "syscall_names.inc"
#undef HWSLICE_SYSCALL
};

}  // namespace

std::span<const SyscallName> all_syscalls() { return kTable; }

std::optional<long> number(std::string_view n) {
  for (const auto& s : kTable)
    if (s.name == n) return s.nr;
  return std::nullopt;
}

std::string_view name(long nr) {
  auto it = std::lower_bound(std::begin(kTable), std::end(kTable), nr,
                             [](const SyscallName& s, long v) { return s.nr < v; });
  if (it != std::end(kTable) && it->nr == nr) return it->name;
  return {};
}

std::string display_name(long nr) {
  std::string_view n = name(nr);
  return n.empty() ? "syscall_" + std::to_string(nr) : std::string(n);
}

}  // namespace hwslice::sys
