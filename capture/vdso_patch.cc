#include "capture/vdso_patch.h"

#include <cstring>

#include "riscv/riscv_isa.h"

namespace hwslice {

namespace {

// The time functions of the riscv64 vDSO (arch/riscv/kernel/vdso) and the
// syscalls with the same arguments and results.
struct TimeFunction {
  const char* symbol;
  long nr;
};
constexpr TimeFunction kTimeFunctions[] = {
    {"__vdso_clock_gettime", 113},
    {"__vdso_clock_getres", 114},
    {"__vdso_gettimeofday", 169},
};

// addi a7, x0, nr; ecall; jalr x0, 0(ra) — 4-byte forms only, so the stub
// needs no C extension.
std::array<uint8_t, 12> stub(long nr) {
  const uint32_t words[3] = {(static_cast<uint32_t>(nr) << 20) | (17u << 7) | 0x13, riscv::kEcall,
                             (1u << 15) | 0x67};
  std::array<uint8_t, 12> code{};
  std::memcpy(code.data(), words, sizeof words);  // little-endian, as RISC-V
  return code;
}

}  // namespace

std::vector<VdsoPatch> vdso_time_patches(const std::vector<ElfSymbol>& symbols, uint64_t base) {
  std::vector<VdsoPatch> out;
  for (const ElfSymbol& s : symbols)
    for (const TimeFunction& f : kTimeFunctions)
      if (s.name == f.symbol && s.size >= 12) out.push_back(VdsoPatch{s.name, base + s.offset, stub(f.nr)});
  return out;
}

}  // namespace hwslice
