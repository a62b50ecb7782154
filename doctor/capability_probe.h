// Measures, on the running riscv64 Linux system, every capability the tracer
// relies on (see CapabilityReport). Each check does the real thing on a
// probe child: syscall stops, ebreak stepping, syscall injection, a
// PROT_NONE fault, perf counting with and without mode filtering, overflow
// signals with their skid, user-mode counter CSRs, hardware breakpoints.
//
// Contract: never throws and never leaves a probe process behind; a check
// that cannot run is reported as kFailed with the reason, not skipped.
// Only built for riscv64 Linux.
#pragma once

#include "doctor/capability_report.h"

namespace hwslice {

CapabilityReport probe_capabilities(const std::string& version);

}  // namespace hwslice
