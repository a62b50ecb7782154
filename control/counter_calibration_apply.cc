// calibrate_user_counter (riscv64): the measurement interpret_calibration
// reads.
#include "control/counter_calibration.h"
#include "control/perf_counter.h"
#include "riscv/riscv_isa.h"
#include "ptrace/syscall_injector.h"
#include "ptrace/tracee.h"

namespace hwslice {

Result<CounterCalibration> calibrate_user_counter(Tracee& tracee, PerfCounter& counter, RemoteAddr at) {
  auto c0 = counter.read();
  if (!c0) return c0.error();
  auto nop = inject_instruction(tracee, at, riscv::kNop, 0);
  if (!nop) return nop.error().wrap("calibrating the instruction counter");
  auto c1 = counter.read();
  if (!c1) return c1.error();
  auto pid = inject_syscall(tracee, at, riscv::kSysGetpid, {});
  if (!pid) return pid.error().wrap("calibrating the instruction counter");
  auto c2 = counter.read();
  if (!c2) return c2.error();
  return interpret_calibration(*c1 - *c0, *c2 - *c1);
}

}  // namespace hwslice
