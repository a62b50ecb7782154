#include "control/counter_calibration.h"

#include <string>

namespace hwslice {

Result<CounterCalibration> interpret_calibration(uint64_t with_nop, uint64_t with_ecall) {
  // nop + ebreak: 1 (the ebreak not counted) or 2. ecall + ebreak: the same
  // ebreak, and the ecall 0 or 1 times. Anything else (the kernel's
  // instructions, a count that drifts) is no exact user-only counter.
  const bool valid = with_nop >= 1 && with_nop <= 2 && with_ecall >= with_nop - 1 && with_ecall - (with_nop - 1) <= 1;
  if (!valid)
    return Error("the user-only instruction counter is not exact: it counted " + std::to_string(with_nop) +
                 " for a nop and an ebreak, " + std::to_string(with_ecall) + " for an ecall and an ebreak");
  CounterCalibration c;
  c.trap_counted = with_nop == 2;
  c.ecall_counted = with_ecall - (with_nop - 1) == 1;
  c.counted = with_nop + with_ecall;
  return c;
}

}  // namespace hwslice
