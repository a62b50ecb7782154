// Routing the vDSO's time functions through real syscalls while slicing.
//
// Why: __vdso_clock_gettime and friends compute the time from [vvar] data
// and rdtime without entering the kernel, so neither the tracer nor a
// slice's replay table sees them; a slice would read live time and follow
// another path than the trace (a program that stores or compares times).
// Like rr, the tracer overwrites each such function's entry in the tracee
// with "li a7, NR; ecall; ret": the calls become ordinary syscalls, which
// the syscall tracer records with their exact writes and slices replay. The
// patched vDSO page is what page mode records and what slices carry.
//
// Contract:
//  - vdso_time_patches is pure: for the exported symbols of a vDSO image
//    loaded at `base`, one patch per known time function long enough to hold
//    the stub (12 bytes); other symbols (rt_sigreturn, getcpu, flush_icache
//    and riscv_hwprobe, whose data is constant) are left alone.
//  - patch_vdso_time (riscv64 only) writes them into a stopped tracee
//    (through /proc/pid/mem, which gives the process a private copy of the
//    page); no vDSO is no patch. Page mode, step mode and trace --at all
//    apply it at the program's start, so a position K does not move with
//    the time read (native, the vDSO's path length depends on it).
//  - The program then runs a few instructions fewer per call than untraced
//    (the stub instead of the vDSO's code); positions count the patched run.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "riscv/address_space.h"

namespace hwslice {

struct VdsoPatch {
  std::string symbol;
  uint64_t addr = 0;
  std::array<uint8_t, 12> code{};
};

std::vector<VdsoPatch> vdso_time_patches(const std::vector<ElfSymbol>& symbols, uint64_t base);

class Tracee;
Status patch_vdso_time(Tracee& tracee);

}  // namespace hwslice
