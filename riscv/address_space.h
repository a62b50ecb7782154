// The tracee's address space as /proc/<pid>/maps describes it, the vDSO's
// exported symbols, and scanning code for instructions that read time or
// counters (rdtime, rdcycle, rdinstret) without a syscall.
//
// Contract: parse_maps and vdso_symbols are pure (unit-tested on x86 with
// text and with the test process's own vDSO image); scan_counter_reads works
// on a byte buffer of code at a given address.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace hwslice {

struct Mapping {
  uint64_t start = 0, end = 0;
  bool read = false, write = false, exec = false, shared = false;
  uint64_t offset = 0;
  std::string path;  // "" for anonymous; "[vdso]", "[stack]", ...
};

Result<std::vector<Mapping>> parse_maps(std::string_view text);
Result<std::vector<Mapping>> read_maps(int pid);

struct ElfSymbol {
  std::string name;
  uint64_t offset;  // from the image start
  uint64_t size;
};

// Function symbols exported by an ELF shared object image held in memory
// (the vDSO): its dynamic symbol table, found through the section headers.
Result<std::vector<ElfSymbol>> vdso_symbols(const std::vector<uint8_t>& image);

struct CounterRead {
  uint64_t pc;
  const char* csr;  // "time", "cycle", "instret"
};

// Every 2-byte-aligned position of `code` (loaded at `base`) holding
// csrrs rd, {cycle,time,instret}, x0 — the rdcycle/rdtime/rdinstret
// pseudo-instructions. Data inside text can give false positives; callers
// report "candidate" sites.
std::vector<CounterRead> scan_counter_reads(const std::vector<uint8_t>& code, uint64_t base);

}  // namespace hwslice
