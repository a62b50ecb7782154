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
//    was created (the tracee's position relative to that point), or since
//    the position given to set_count() (a counted approach's, when stepping
//    finishes a fast-forward: control/fast_forward.h).
//  - No breakpoint is ever left in the tracee (ScopedBreakpoint).
//  - A signal that stops the tracee during a step is delivered unchanged; its
//    handler's instructions are not counted, and exact() becomes false.
//    Stops of the owner's own (a timer SIGSTOP, an overflow signal, a
//    breakpoint of the owner's at a counter read) are given to the
//    foreign_stop hook first, and a stop it takes is neither delivered nor
//    makes the position inexact.
//  - Program exit during a step is an Error saying at which count it ended.
//
// Counted hops: where the owner has an exact user-only instruction count
// (Hooks::counted: the k1 profile's counter, with the owner's corrections),
// block stepping lets the CPU run whole regions of code itself. From the pc
// it plans breakpoints that every path reaches within the instructions left
// (the region's loops, indirect jumps, ecalls and LR/SC sequences are
// stops; a path longer than the distance left gets one at exactly that
// distance), runs to the first one hit and reads the count to learn where
// it is. A loop iteration then costs one stop instead of one per basic
// block. Plans are cached by pc with the decoded blocks. A hop that ran
// more than its plan allows is an Error (the count is wrong), never a
// wrong position.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

#include "ptrace/breakpoint.h"
#include "control/hop_plan.h"
#include "base/result.h"
#include "riscv/riscv_decoder.h"
#include "ptrace/tracee.h"

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

  // What the owner does with stops and code that are its own (see above).
  struct Hooks {
    // A stop that is not the stepper's breakpoint: true when the owner took
    // it (the tracee then resumes without a signal). It may perform one
    // straight-line instruction for the program (a counter read at its own
    // breakpoint: rd set, pc moved past it), which the stepper has counted
    // as part of the straight-line run it was in.
    std::function<Result<bool>(const WaitStatus&)> foreign_stop;
    // Gives a copy of the tracee's code [addr, addr + len) its original bytes
    // where the owner has breakpoints of its own.
    std::function<void(uint64_t addr, uint8_t* data, size_t len)> unpatch;
    // The program's exact position by the owner's user-only counter (any
    // base: only differences are used), where it has one; set, it enables
    // counted hops. It must stay exact across the owner's own stops
    // (counter reads it performs for the program).
    std::function<Result<uint64_t>()> counted;
    bool trap_counted = true;  // that count includes each breakpoint trap
  };
  void set_hooks(Hooks hooks) { hooks_ = std::move(hooks); }
  // The tracee is at this position now; count() continues from it.
  void set_count(uint64_t count) { count_ = count; }

  // Runs until exactly `target` instructions have retired (target >= count()).
  Status run_to(uint64_t target);
  // The same, but stops in front of an ecall (count() is then the ecall's
  // position and the pc is on it) so that the owner can take the syscall
  // through its own syscall stops; returns true when `target` was reached,
  // false at an ecall. An ecall at the target itself is not run.
  Result<bool> run_to_ecall(uint64_t target);
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
  // Counted hops run.
  uint64_t hops() const { return hops_; }

 private:
  // The straight-line run from a pc: the addresses of its instructions and
  // the instruction that ends it (a control transfer, ecall, lr, ...; length
  // 0 where the scan ran out of bytes or found none).
  using Block = CodeBlock;
  // What one run() keeps between stops: blocks decoded (code that cannot
  // change: not in a writable mapping, and no ecall since), breakpoints
  // left at block ends (removed when run() returns).
  struct Session {
    std::unordered_map<uint64_t, Block> blocks;
    // Hop plans by start pc (valid for any distance at least their
    // longest), kept as long as the blocks.
    std::unordered_map<uint64_t, HopPlan> hops;
    std::map<uint64_t, ScopedBreakpoint> bps;
    std::vector<std::pair<uint64_t, uint64_t>> writable_code;
    std::vector<std::pair<uint64_t, uint64_t>> code;  // every executable mapping
    Status load_writable_code(pid_t pid);
    bool cacheable(uint64_t start, uint64_t end) const;
    bool executable(uint64_t addr) const;
  };
  Result<const Block*> block_at(uint64_t pc);
  // Continues to the breakpoint(s) at `stops` and returns the pc reached:
  // one of them, or another breakpoint of the session's on the way.
  Result<uint64_t> run_until(const std::vector<uint64_t>& stops);
  // A hop plan from `pc` for at most `budget` instructions; nullopt where
  // none can be made (the pc is an ecall, jalr, ... itself, or the code is
  // writable).
  Result<std::optional<HopPlan>> plan_hop(uint64_t pc, uint64_t budget);
  // One counted hop toward `target`; false where no plan could be made.
  Result<bool> hop(uint64_t pc, uint64_t target);
  Status read_code(uint64_t pc, std::vector<uint8_t>& out);
  Result<bool> run(uint64_t target, bool stop_at_ecall);
  Status emulate(const riscv::Instruction& insn, riscv::IntRegisters regs);

  Tracee& tracee_;
  const riscv::Decoder& decoder_;
  bool compressed_;
  Mode mode_;
  Hooks hooks_;
  Session* session_ = nullptr;  // during run()
  Block scratch_;               // a block not cached
  uint64_t count_ = 0;
  uint64_t traps_ = 0;
  uint64_t emulated_ = 0;
  uint64_t hops_ = 0;
  // Hooks::counted at this stop, read by the last hop (reset whenever the
  // tracee runs).
  std::optional<uint64_t> counted_here_;
  bool exact_ = true;
};

}  // namespace hwslice
