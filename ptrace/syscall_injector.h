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
#include <span>

#include "ptrace/remote_ptr.h"
#include "base/result.h"
#include "ptrace/tracee.h"

namespace hwslice {

// Returns the raw syscall return value (negative errno on failure).
Result<int64_t> inject_syscall(Tracee& tracee, RemoteAddr code_addr, long nr,
                               const std::array<uint64_t, 6>& args);

// The code inject_syscall writes: ecall, then ebreak.
inline constexpr std::array<uint32_t, 2> kSyscallStub = {riscv::kEcall, riscv::kEbreak};

// inject_syscall at an address of the tracer's own that already holds
// kSyscallStub (written once): the code bytes are neither saved, written nor
// put back, three memory accesses fewer per call (page mode injects an
// mprotect at most of its faults). Same stop requirements; registers are
// put back.
Result<int64_t> inject_syscall_at_stub(Tracee& tracee, RemoteAddr stub, long nr, const std::array<uint64_t, 6>& args);

// The pair stub: runs the call in a7 with a0..a5; when it returns 0, runs a
// second call, number in t3 and first three arguments in t0..t2 (a3..a5 as
// the first call left them), then stops at its second ebreak; a first call
// returning anything else stops at the first ebreak, the second not run.
// Position independent, written once like batch_stub(). Page mode gives a
// page write access and populates it for writing in one stop this way.
inline constexpr size_t kPairStubWords = 9;
inline constexpr uint64_t kPairStubFirstEbreak = 8, kPairStubSecondEbreak = 32;  // byte offsets
std::array<uint32_t, kPairStubWords> pair_stub();

// What inject_syscall_pair ran: the first call's raw result, and the
// second's when the first returned 0.
struct PairResult {
  int64_t first = 0;
  std::optional<int64_t> second;
};

// Runs `nr`(args) and, if it returned 0, `nr2`(args2[0..2], args[3..5]) in
// one stop of the tracee, at `stub` (where pair_stub() is); registers are put
// back. Same stop requirements as inject_syscall.
Result<PairResult> inject_syscall_pair(Tracee& tracee, RemoteAddr stub, long nr, const std::array<uint64_t, 6>& args,
                                       long nr2, const std::array<uint64_t, 3>& args2);

// One call of a batch (inject_syscalls): number, arguments, and the raw
// return value once it ran.
struct InjectedCall {
  long nr = 0;
  std::array<uint64_t, 6> args{};
  int64_t result = 0;
};

// The batch stub: at t0 a table of 64-byte entries {nr, a0..a5, result};
// it runs each entry's call and stores a0 into its result, until an entry
// whose nr is negative, then stops at an ebreak. Position independent; the
// tracer writes it once at an executable address of its own.
inline constexpr size_t kBatchStubWords = 13;
inline constexpr size_t kBatchEntryBytes = 64;
std::array<uint32_t, kBatchStubWords> batch_stub();

// Runs `calls` in order in one stop of the tracee (one round trip instead of
// one per call): writes the table (calls.size() + 1 entries) at `table`
// (read-write, tracer-owned), points pc at `stub` (where batch_stub() is) and
// t0 at the table, runs to the ebreak, reads the results back into
// calls[i].result, and puts every register back. A failing call does not
// stop the ones after it. Same stop requirements as inject_syscall.
Status inject_syscalls(Tracee& tracee, RemoteAddr stub, RemoteAddr table, std::span<InjectedCall> calls);

// Runs one straight-line instruction `insn` (4 bytes, position independent,
// e.g. a counter read) in the tracee at `code_addr`, followed by an ebreak,
// and returns the value it left in integer register `rd`; registers and code
// bytes are then put back. nullopt: the instruction trapped with SIGILL (a
// counter the kernel does not let user mode read); the signal is not
// delivered.
Result<std::optional<uint64_t>> inject_instruction(Tracee& tracee, RemoteAddr code_addr, uint32_t insn,
                                                   unsigned rd);

}  // namespace hwslice
