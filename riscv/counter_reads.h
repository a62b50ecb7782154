// Counter reads: the instructions that read cycle, time or instret without a
// syscall (rdcycle, rdtime, rdinstret), found exactly in a program's code.
//
// Why: a value read from a counter is an input the kernel never sees. A
// slice that reads the live counter again can take another path than the
// trace (a program that compares or stores times). The tracer therefore
// stops at every such instruction the program runs in an interval, records
// the value it read, and the slice replays that value at the same site
// (runtime/slice_abi.h, HWS_CALL_COUNTER).
//
// Finding the sites exactly: a 2-byte-aligned scan of code (address_space.h
// scan_counter_reads) also matches inside other instructions and data, and a
// breakpoint there would corrupt the program. So sites come from a linear
// sweep of each executable section of the mapped ELF file, from the
// section's start (an instruction boundary): RISC-V instruction lengths are
// self-describing, so the sweep stays on instruction boundaries through
// compiled code (alignment padding is nops or zero halfwords, both whole
// instructions).
//
// Contract: everything here is pure (unit-tested on x86).
//  - decode_counter_read: the 32-bit encodings that only read one of the
//    three counters into rd != x0 (csrrs/csrrc with rs1 = x0, csrrsi/csrrci
//    with uimm = 0); anything else is nullopt.
//  - sweep_counter_reads: sites in `n` bytes of code at `base`, starting at
//    an instruction boundary.
//  - exec_sections: (file offset, size) of the SHF_EXECINSTR PROGBITS
//    sections of an ELF64 file image; an Error for a file that is not one.
//  - counter_read_sites: the sites of an executable mapping of `file` that
//    starts at `map_start` with file offset `map_offset` and `map_size`
//    bytes, as addresses.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "base/result.h"

namespace hwslice {

struct CounterReadInsn {
  unsigned rd = 0;
  uint16_t csr = 0;       // 0xc00 cycle, 0xc01 time, 0xc02 instret
  const char* name = "";  // "rdcycle", "rdtime", "rdinstret"
};

std::optional<CounterReadInsn> decode_counter_read(uint32_t word);

struct CounterSite {
  uint64_t pc = 0;
  uint32_t word = 0;
  CounterReadInsn insn;
};

std::vector<CounterSite> sweep_counter_reads(const uint8_t* code, size_t n, uint64_t base);

struct FileRange {
  uint64_t offset = 0, size = 0;
};
Result<std::vector<FileRange>> exec_sections(const std::vector<uint8_t>& elf);

Result<std::vector<CounterSite>> counter_read_sites(const std::vector<uint8_t>& file, uint64_t map_start,
                                                    uint64_t map_offset, uint64_t map_size);

}  // namespace hwslice
