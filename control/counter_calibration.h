// Counter calibration: what a board's user-only instruction counter counts
// besides the program's instruction stream. The ISA says a trapping
// instruction does not retire, so an ebreak (the tracer's breakpoints) and
// an ecall should not be counted; QEMU counts both, and real boards may
// differ. Every owner of an exact count (the counted fast-forward, the
// interval tracer) measures this once per run the same way: a nop and an
// ebreak, then a getpid ecall and an ebreak, run in the tracee with the
// counter on.
//
// Contract:
//  - interpret_calibration() is pure (host-tested): given what the counter
//    added for each of the two injections, it says whether an ebreak and an
//    ecall are counted, or returns an Error when the counts cannot come from
//    an exact user-only counter (the nop must count once; the ebreak and the
//    ecall each zero or one time; the ebreak the same in both).
//  - calibrate_user_counter() needs the tracee at a stop where a
//    syscall can be injected; it runs the code at `at` (an executable
//    address: the pc, or a code page of the tracer's), puts code and
//    registers back, and leaves the counter in its state (it must be
//    counting).
#pragma once

#include <cstdint>

#include "ptrace/remote_ptr.h"
#include "base/result.h"

namespace hwslice {

class Tracee;
class PerfCounter;

struct CounterCalibration {
  bool trap_counted = true;   // a trapping ebreak counts as retired
  bool ecall_counted = true;  // an ecall counts as retired
  uint64_t counted = 0;       // what the counter counted for the calibration itself
};

// `with_nop`: counted for nop + ebreak; `with_ecall`: for ecall + ebreak.
Result<CounterCalibration> interpret_calibration(uint64_t with_nop, uint64_t with_ecall);

// riscv64 only (counter_calibration_apply.cc).
Result<CounterCalibration> calibrate_user_counter(Tracee& tracee, PerfCounter& counter, RemoteAddr at);

}  // namespace hwslice
