// SliceSpec: everything the slicer needs to write one slice, as the tracer
// recorded it for one interval [start, end). The slice writer turns it into
// a static riscv64 ELF (runtime/slice_abi.h describes that file).
//
// Contract (what the tracer guarantees when it fills one in):
//  - pages: every page the program or the kernel touched in the interval,
//    each once, sorted by address, 4 KiB each, content as it must be at the
//    slice start (content at the interval start, or at the page's first
//    touch, which is the same for bytes the kernel did not write).
//  - syscalls: every syscall completed in the interval, in order, with its
//    result and exact memory writes. With end_kind kSyscall the last entry is
//    the call the slice ends at (it is not replayed).
//  - start_regs at `start`, end_regs at `end` (for kPcRegs, end_regs.pc is a
//    non-control-flow, non-ecall instruction inside `pages`).
//  - mappings: the program's whole address space during the interval (union
//    of all maps seen), so the writer can place its own pages in holes: stub
//    pages may go in untouched parts of program mappings, the runtime image
//    only where the program never had anything.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tracer/trace_record.h"

namespace hwslice {

struct SlicePage {
  uint64_t addr = 0;            // 4 KiB aligned
  int prot = 0;                 // PROT_* of the page in the program
  bool read = false, write = false, exec = false, kernel = false;  // how it was touched
  std::vector<uint8_t> data;    // 4096 bytes
};

struct AddressRange {
  uint64_t start = 0, end = 0;  // [start, end)
  std::string name;             // path or [heap]/[stack]/...
};

struct SliceSpec {
  enum class EndKind { kPcRegs, kSyscall };
  std::string program;          // path of the traced program (for the manifest)
  uint64_t start = 0, end = 0;  // program positions (user instructions)
  bool exact = true;            // start/end are exact counts
  RegsRecord start_regs, end_regs;
  EndKind end_kind = EndKind::kPcRegs;
  std::vector<SlicePage> pages;
  std::vector<SyscallRecord> syscalls;
  // Ranges covered by the written-memory digest (pages the program or the
  // kernel wrote), sorted, and the digest of their content at `end`
  // (runtime/slice_abi.h hws_hash rules).
  std::vector<AddressRange> digest_ranges;
  uint64_t digest = 0;
  // kPcRegs: the stack above sp at the end, [end_regs sp, + end_stack_len),
  // only bytes of the slice's pages, and its hws_hash (the end hit must
  // match it too; runtime/slice_abi.h).
  uint64_t end_stack_len = 0, end_stack_hash = 0;
  std::vector<AddressRange> mappings;
  // Bytes the program wrote to stdout/stderr in the interval (echoed by the
  // slice; verify compares).
  std::vector<uint8_t> stdout_bytes, stderr_bytes;
};

}  // namespace hwslice
