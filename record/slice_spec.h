// SliceSpec: everything the slicer needs to write one slice, as the tracer
// recorded it for one interval [start, end). The slice writer turns it into
// a static riscv64 ELF (runtime/slice_abi.h describes that file).
//
// Contract (what the tracer guarantees when it fills one in):
//  - pages: every page the program or the kernel touched in the interval,
//    each once, sorted by address, 4 KiB each, content as it must be at the
//    slice start (content at the interval start, or at the page's first
//    touch, which is the same for bytes the kernel did not write).
//  - syscalls: the interval's events in order: every syscall completed in
//    it with its result and exact memory writes, the program's counter
//    reads, fault marks and signal deliveries (record/trace_record.h). The
//    end is an event or a count (EndKind); for kSyscall and kFault the last
//    entry is the event the slice ends at (not replayed), for kAfterCall the
//    last syscall, after which it ends.
//  - start_regs at `start`, end_regs at `end` (for kCounted, end_regs.pc is a
//    non-control-flow, non-ecall instruction inside `pages`).
//  - mappings: the program's whole address space during the interval (union
//    of all maps seen), so the writer can place its own pages in holes: stub
//    pages may go in untouched parts of program mappings, the runtime image
//    only where the program never had anything.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "record/trace_record.h"

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
  // kCounted: at a pc and an instruction count (runtime/slice_abi.h,
  // HWS_END_COUNTED); kSyscall: at the ecall of the last entry (the
  // program's exit); kFault: at the last entry, a fault mark; kAfterCall:
  // right after the last entry, a syscall.
  enum class EndKind { kCounted, kSyscall, kFault, kAfterCall };
  std::string program;          // path of the traced program (for the manifest)
  uint64_t start = 0, end = 0;  // program positions (user instructions)
  bool exact = true;            // start/end are exact counts
  RegsRecord start_regs, end_regs;
  EndKind end_kind = EndKind::kCounted;
  // kCounted: the execution of end_regs.pc after the last event that is the
  // end (1 = the first), when the tracer counted them (step mode); 0: not
  // known, the runtime decides by count and state.
  uint64_t end_pass = 0;
  // Why no slice can reproduce this interval exactly (e.g. a signal the
  // tracer had to deliver at a point no slice can find again); empty: it
  // can. The slicer refuses such an interval with this reason.
  std::string unsliceable;
  std::vector<SlicePage> pages;
  std::vector<SyscallRecord> syscalls;
  // Ranges covered by the written-memory digest (pages the program or the
  // kernel wrote), sorted, and the digest of their content at `end`
  // (runtime/slice_abi.h hws_hash rules).
  std::vector<AddressRange> digest_ranges;
  uint64_t digest = 0;
  // kCounted: the stack above sp at the end, [end_regs sp, + end_stack_len),
  // only bytes of the slice's pages, and its hws_hash (the end hit must
  // match it too; runtime/slice_abi.h).
  uint64_t end_stack_len = 0, end_stack_hash = 0;
  std::vector<AddressRange> mappings;
  // Bytes the program wrote to stdout/stderr in the interval (echoed by the
  // slice; verify compares).
  std::vector<uint8_t> stdout_bytes, stderr_bytes;
};

}  // namespace hwslice
