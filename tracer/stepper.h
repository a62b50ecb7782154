// Stepper: moves a ptrace-stopped tracee forward by an exact number of user
// instructions with software breakpoints (riscv64 Linux has no
// PTRACE_SINGLESTEP).
//
// Block stepping: from the pc, straight-line instructions are decoded up to
// the next control-flow instruction (or the target count) and run in one go
// to a breakpoint after them. Branches and jumps, which change only the pc
// and rd, are then performed by the tracer from the registers (one stop per
// basic block instead of two); an ecall runs with a breakpoint after it (its
// syscall runs inside the step, counting as one instruction); an LR/SC
// sequence runs as one unit (a trap between lr and sc would clear the
// reservation).
//
// Contract:
//  - count() is the number of user instructions retired since the Stepper
//    was created (the tracee's position relative to that point).
//  - No breakpoint is ever left in the tracee (ScopedBreakpoint).
//  - A signal that stops the tracee during a step is delivered unchanged; its
//    handler's instructions are not counted, and exact() becomes false.
//  - Program exit during a step is an Error saying at which count it ended.
#pragma once

#include <cstdint>
#include <functional>

#include "tracer/result.h"
#include "tracer/riscv_decoder.h"
#include "tracer/tracee.h"

namespace hwslice {

class Stepper {
 public:
  enum class Mode {
    kBlock,   // straight-line runs + emulated control transfers (default)
    kSingle,  // every instruction on its own, with a breakpoint at its successor
              // (LR/SC sequences still run as one unit)
  };
  Stepper(Tracee& tracee, const riscv::Decoder& decoder, bool compressed_breakpoints, Mode mode = Mode::kBlock)
      : tracee_(tracee), decoder_(decoder), compressed_(compressed_breakpoints), mode_(mode) {}

  // Runs until exactly `target` instructions have retired (target >= count()).
  Status run_to(uint64_t target);
  // Executes exactly one instruction.
  Status step();

  uint64_t count() const { return count_; }
  // Breakpoint traps taken so far (for checking against hardware counters,
  // which may count each trapping ebreak as an instruction).
  uint64_t traps() const { return traps_; }
  // Control transfers the tracer performed instead of the CPU (a hardware
  // instruction counter does not see them).
  uint64_t emulated() const { return emulated_; }
  bool exact() const { return exact_; }

 private:
  // Continues to the breakpoint(s) at `stops` and returns the pc reached.
  Result<uint64_t> run_until(const std::vector<uint64_t>& stops);
  Status read_code(uint64_t pc, std::vector<uint8_t>& out);
  Status emulate(const riscv::Instruction& insn, riscv::IntRegisters regs);

  Tracee& tracee_;
  const riscv::Decoder& decoder_;
  bool compressed_;
  Mode mode_;
  uint64_t count_ = 0;
  uint64_t traps_ = 0;
  uint64_t emulated_ = 0;
  bool exact_ = true;
};

}  // namespace hwslice
