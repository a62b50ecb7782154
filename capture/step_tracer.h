// Step mode (hwslice trace --mode step): the precise, slow alternative to
// page mode. Every user instruction of the program is stepped with a
// software breakpoint on its successor and recorded (`inst`), with the bytes
// each load saw (`read`, taken before the load) and each store left
// (`write`, taken after it), in program order and interleaved with the
// syscall records of the syscall tracer. With an interval length, a `regs`
// record (at "interval") marks every boundary k * N and a `pages` record
// lists each interval's touched pages (kinds r/w/x from the instructions, k
// from syscall writes; digest of the page as first seen), comparable with
// page mode's.
//
// How a step runs (riscv64 Linux has no PTRACE_SINGLESTEP): the step is set
// up in the syscall loop's before_resume hook and completes at the
// breakpoint's SIGTRAP (on_signal), so syscalls inside a step are recorded as
// in plain tracing. Branches and jumps are carried out by the tracer (they
// change only pc and rd). An LR/SC sequence runs as one unit to a breakpoint
// after the sc (or at a branch target leaving it), and its instructions are
// recorded along the path taken. An ecall completes at the breakpoint after
// it; a call the kernel restarts runs the ecall again within the same step
// (one instruction, as page mode counts it).
//
// Contract:
//  - Positions are exact: count k is the k-th program instruction from the
//    first one, on every board (no counter is involved). Where user-only
//    counting exists, an instructions:u counter runs alongside and the
//    summary reports it with the breakpoint traps and emulated transfers
//    (hardware = count - emulated + traps, the independent check).
//  - The program's signals are delivered as untraced; a handler is stepped
//    from its first instruction (a breakpoint there sees the kernel deliver
//    it), so positions stay exact. A step the signal came before is dropped
//    and taken again; exact becomes false only for a signal inside an LR/SC
//    unit or a syscall's step. Handlers are known from the program's
//    rt_sigaction calls (record/signal_rules.h).
//  - Refused with an Error before they run: execve (one program image),
//    fork/clone (a child would inherit the step's breakpoint), an ebreak of
//    the program's own, and memory accesses that are not a (base + offset,
//    size) pair (vector and cache-block accesses).
//  - A load from memory ptrace cannot read (the vDSO's data page, [vvar])
//    gets its `read` record after the step, with the bytes taken from the
//    destination register; only a load into x0 keeps empty data.
//  - No breakpoint is left behind; on any error the program is killed.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "capture/syscall_tracer.h"
#include "record/trace_record.h"

namespace hwslice {

class Tracee;

// Lets a client act at instruction boundaries of a step trace (step-mode
// slicing, capture/step_slicer.h). Each call has the tracee stopped with no
// breakpoint of the step in place, except at_exit_call (the exit call's
// step is under way; its breakpoint follows the ecall). An Error stops
// tracing and kills the program.
class StepObserver {
 public:
  virtual ~StepObserver() = default;
  // Before the instruction at position `count` (instructions done so far).
  virtual Status before_instruction(Tracee& t, uint64_t count) = 0;
  // After a syscall, before its record goes to the sink (`rec` may gain
  // writes: memory the call replaced).
  virtual Status after_call(Tracee& t, SyscallRecord& rec) = 0;
  // At the entry of exit or exit_group, whose ecall at `pc` is instruction
  // number `count` (not counted: the program ends there).
  virtual Status at_exit_call(Tracee& t, uint64_t count, long nr, const std::array<uint64_t, 6>& args,
                              uint64_t pc) = 0;
  // A signal of the program's own is about to be delivered (its handler is
  // stepped too).
  virtual Status on_program_signal(Tracee& t, uint64_t count, int sig) = 0;
};

struct StepOptions {
  std::vector<std::string> argv;
  uint64_t interval = 0;  // N; 0: no interval records
  bool allow_unknown = false;
  bool no_aslr = true;
  const std::atomic<bool>* interrupted = nullptr;
  // Called now and then with the instructions stepped so far.
  std::function<void(uint64_t instructions)> progress;
  StepObserver* observer = nullptr;
};

struct StepSummary {
  ExitRecord exit;
  uint64_t instructions = 0;  // program instructions stepped (the exit call not included)
  bool exact = true;
  uint64_t traps = 0;         // breakpoint traps taken
  uint64_t emulated = 0;      // branches and jumps the tracer performed
  uint64_t syscalls = 0;
  uint64_t signals = 0;       // signals delivered to the program's handlers (stepped)
  std::optional<uint64_t> hardware;  // instructions:u over the run, where counted user-only
};

// Runs the program to its end, stepping every instruction; each record goes
// to `sink` as it is made.
Result<StepSummary> trace_steps(const StepOptions& options, TraceSink& sink);

}  // namespace hwslice
