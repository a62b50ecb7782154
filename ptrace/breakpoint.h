// Software breakpoints and one-instruction software single-step.
//
// RISC-V Linux has no PTRACE_SINGLESTEP (it returns EIO), so the tracer
// writes ebreak (or c.ebreak) at the next pc, continues, and restores the
// original bytes. ScopedBreakpoint guarantees the restore: on every exit path
// (error, early return, exception) the original bytes go back, so a tracee is
// never left with a breakpoint in its text.
#pragma once

#include <cstdint>

#include "ptrace/remote_ptr.h"
#include "base/result.h"
#include "riscv/riscv_decoder.h"
#include "ptrace/tracee.h"

namespace hwslice {

class ScopedBreakpoint {
 public:
  // Writes c.ebreak when `compressed` (the C extension is present; any
  // 2-aligned pc works) or the 4-byte ebreak otherwise.
  static Result<ScopedBreakpoint> insert(Tracee& tracee, RemoteAddr at, bool compressed);
  ScopedBreakpoint(ScopedBreakpoint&& o) noexcept;
  ScopedBreakpoint(const ScopedBreakpoint&) = delete;
  ScopedBreakpoint& operator=(const ScopedBreakpoint&) = delete;
  ScopedBreakpoint& operator=(ScopedBreakpoint&&) = delete;
  ~ScopedBreakpoint() { (void)remove(); }

  RemoteAddr address() const { return at_; }
  // The bytes the breakpoint replaced (length() of them, little-endian).
  uint32_t saved() const { return saved_; }
  unsigned length() const { return len_; }
  // Restores the original bytes now; later calls do nothing.
  Status remove();

 private:
  ScopedBreakpoint(Tracee* t, RemoteAddr at, uint32_t saved, unsigned len)
      : tracee_(t), at_(at), saved_(saved), len_(len) {}
  Tracee* tracee_;
  RemoteAddr at_;
  uint32_t saved_;
  unsigned len_;
};

// Length of the instruction at `pc` in the tracee (2 or 4).
Result<unsigned> instruction_length_at(Tracee& tracee, RemoteAddr pc);

// The instruction at `pc` in the tracee, decoded. Its first halfword is read
// first: a compressed instruction may end a mapping. An Error when the
// bytes cannot be read; a result of length 0 when they are no instruction.
Result<riscv::Instruction> decode_at(Tracee& tracee, const riscv::Decoder& decoder, uint64_t pc);

// The instruction at `pc` can carry a slice's end breakpoint
// (docs/slices.md, "end point"): it falls through (no branch, jump or
// ecall), and no sc follows before the next control transfer (an lr/sc
// sequence must not be interrupted by a trap). False when the bytes cannot
// be read or decoded.
bool can_end_slice_at(Tracee& tracee, const riscv::Decoder& decoder, uint64_t pc);

// Executes exactly one instruction that is known not to change control flow
// (the caller decides; branch-aware stepping builds on this with a decoder):
// breakpoint at pc + length, continue, expect the SIGTRAP there.
Status step_straight_line(Tracee& tracee, bool compressed);

}  // namespace hwslice
