// Syscall injection: make the tracee run one system call of the tracer's
// choosing (like CRIU's compel): write "ecall; ebreak" at an executable
// address, set a7/a0..a5 and pc, continue to the ebreak, read a0, then put
// the code bytes and every register back.
//
// Contract: the tracee must be in a signal-delivery or breakpoint stop (not a
// syscall stop). On return, successful or not, its memory and registers are
// as before; only the system call's own effect remains.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "tracer/remote_ptr.h"
#include "tracer/result.h"
#include "tracer/tracee.h"

namespace hwslice {

// Returns the raw syscall return value (negative errno on failure).
Result<int64_t> inject_syscall(Tracee& tracee, RemoteAddr code_addr, long nr,
                               const std::array<uint64_t, 6>& args);

// Runs one straight-line instruction `insn` (4 bytes, position independent,
// e.g. a counter read) in the tracee at `code_addr`, followed by an ebreak,
// and returns the value it left in integer register `rd`; registers and code
// bytes are then put back. nullopt: the instruction trapped with SIGILL (a
// counter the kernel does not let user mode read); the signal is not
// delivered.
Result<std::optional<uint64_t>> inject_instruction(Tracee& tracee, RemoteAddr code_addr, uint32_t insn,
                                                   unsigned rd);

}  // namespace hwslice
