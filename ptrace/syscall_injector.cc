#include "ptrace/syscall_injector.h"

#include <signal.h>

#include <vector>

#include "riscv/riscv_encode.h"
#include "record/trace_record.h"

namespace hwslice {
namespace {

// Puts the injected-over code bytes and the registers back (if the tracee
// still exists); the first error of the two, if any.
Status put_back(Tracee& tracee, RemoteAddr code_addr, const uint32_t (&code)[2], const riscv::IntRegisters& regs) {
  if (!tracee.alive()) return ok_status();
  auto w = tracee.write(code_addr, code, sizeof code);
  auto r = tracee.set_regs(regs);
  if (!w) return w;
  return r;
}

}  // namespace

namespace {

// Runs the "ecall; ebreak" at code_addr with nr and args from the registers
// `saved` (the tracee's own), returning a0; the caller puts `saved` back.
Result<int64_t> run_ecall(Tracee& tracee, RemoteAddr code_addr, long nr, const std::array<uint64_t, 6>& args,
                          const riscv::IntRegisters& saved) {
  auto regs = saved;
  regs.set_pc(code_addr.as_int());
  regs.set_x(riscv::kA7, static_cast<uint64_t>(nr));
  for (unsigned i = 0; i < 6; ++i) regs.set_x(riscv::kA0 + i, args[i]);
  HWSLICE_TRY(tracee.set_regs(regs));
  if (auto run = tracee.cont_until_signal(SIGTRAP); !run) return run.error().wrap("injected syscall " + std::to_string(nr));
  auto after = tracee.regs();
  if (!after) return after.error();
  if (after->pc() != code_addr.as_int() + 4)
    return Error("injected syscall " + std::to_string(nr) + " stopped at the wrong place: " + tracee.state_line());
  return static_cast<int64_t>(after->x(riscv::kA0));
}

}  // namespace

Result<int64_t> inject_syscall(Tracee& tracee, RemoteAddr code_addr, long nr,
                               const std::array<uint64_t, 6>& args) {
  auto saved_regs = tracee.regs();
  if (!saved_regs) return saved_regs.error();
  uint32_t saved_code[2];
  HWSLICE_TRY(tracee.read(code_addr, saved_code, sizeof saved_code));
  HWSLICE_TRY(tracee.write(code_addr, kSyscallStub.data(), sizeof kSyscallStub));
  Result<int64_t> result = run_ecall(tracee, code_addr, nr, args, *saved_regs);
  // Restore unconditionally. The injection's own error wins; a failed put-back replaces a success.
  if (Status p = put_back(tracee, code_addr, saved_code, *saved_regs); result && !p) return p.error();
  return result;
}

Result<int64_t> inject_syscall_at_stub(Tracee& tracee, RemoteAddr stub, long nr, const std::array<uint64_t, 6>& args) {
  auto saved_regs = tracee.regs();
  if (!saved_regs) return saved_regs.error();
  Result<int64_t> result = run_ecall(tracee, stub, nr, args, *saved_regs);
  Status back = tracee.alive() ? tracee.set_regs(*saved_regs) : ok_status();
  if (result && !back) return back.error();
  return result;
}

std::array<uint32_t, kPairStubWords> pair_stub() {
  using namespace riscv;
  constexpr unsigned t0 = 5, t1 = 6, t2 = 7, t3 = 28, a0 = 10, a7 = 17;
  return {
      kEcall,                               // 0:  first call
      encode_beq(a0, 0, 8),                 // 4:  0: on to the second (12)
      kEbreak,                              // 8:  the first failed
      encode_addi(a0, t0, 0),               // 12: the second's arguments
      encode_addi(a0 + 1, t1, 0),
      encode_addi(a0 + 2, t2, 0),
      encode_addi(a7, t3, 0),               // 24: and number
      kEcall,                               // 28
      kEbreak,                              // 32
  };
}

Result<PairResult> inject_syscall_pair(Tracee& tracee, RemoteAddr stub, long nr, const std::array<uint64_t, 6>& args,
                                       long nr2, const std::array<uint64_t, 3>& args2) {
  auto saved = tracee.regs();
  if (!saved) return saved.error();
  auto regs = *saved;
  regs.set_pc(stub.as_int());
  regs.set_x(riscv::kA7, static_cast<uint64_t>(nr));
  for (unsigned i = 0; i < 6; ++i) regs.set_x(riscv::kA0 + i, args[i]);
  regs.set_x(5, args2[0]);
  regs.set_x(6, args2[1]);
  regs.set_x(7, args2[2]);
  regs.set_x(28, static_cast<uint64_t>(nr2));
  Result<PairResult> result = PairResult{};
  if (auto st = tracee.set_regs(regs); !st) {
    result = st.error();
  } else if (auto run = tracee.cont_until_signal(SIGTRAP); !run) {
    result = run.error().wrap("injected syscalls " + std::to_string(nr) + ", " + std::to_string(nr2));
  } else if (auto after = tracee.regs(); !after) {
    result = after.error();
  } else if (after->pc() == stub.as_int() + kPairStubFirstEbreak) {
    result->first = static_cast<int64_t>(after->x(riscv::kA0));
  } else if (after->pc() == stub.as_int() + kPairStubSecondEbreak) {
    result->first = 0;
    result->second = static_cast<int64_t>(after->x(riscv::kA0));
  } else {
    result = Error("injected syscalls stopped at the wrong place: " + tracee.state_line());
  }
  Status back = tracee.alive() ? tracee.set_regs(*saved) : ok_status();
  if (result && !back) return back.error();
  return result;
}

std::array<uint32_t, kBatchStubWords> batch_stub() {
  using namespace riscv;
  constexpr unsigned t0 = 5, a0 = 10, a7 = 17;
  return {
      encode_ld(a7, t0, 0),      // 0:  nr
      encode_blt(a7, 0, 44),     // 4:  negative: done (48)
      encode_ld(a0, t0, 8),      // 8:  arguments
      encode_ld(a0 + 1, t0, 16),
      encode_ld(a0 + 2, t0, 24),
      encode_ld(a0 + 3, t0, 32),
      encode_ld(a0 + 4, t0, 40),
      encode_ld(a0 + 5, t0, 48),
      kEcall,                    // 32
      encode_sd(a0, t0, 56),     // 36: result
      encode_addi(t0, t0, static_cast<int64_t>(kBatchEntryBytes)),
      encode_jal(0, -44),        // 44: next entry (0)
      kEbreak,                   // 48
  };
}

Status inject_syscalls(Tracee& tracee, RemoteAddr stub, RemoteAddr table, std::span<InjectedCall> calls) {
  if (calls.empty()) return ok_status();
  std::vector<uint64_t> words((calls.size() + 1) * kBatchEntryBytes / 8, 0);
  for (size_t i = 0; i < calls.size(); ++i) {
    uint64_t* e = &words[i * kBatchEntryBytes / 8];
    e[0] = static_cast<uint64_t>(calls[i].nr);
    for (unsigned a = 0; a < 6; ++a) e[1 + a] = calls[i].args[a];
  }
  words[calls.size() * kBatchEntryBytes / 8] = static_cast<uint64_t>(-1);
  HWSLICE_TRY(tracee.write(table, words.data(), words.size() * 8));
  auto saved_regs = tracee.regs();
  if (!saved_regs) return saved_regs.error();
  auto regs = *saved_regs;
  regs.set_pc(stub.as_int());
  regs.set_x(5, table.as_int());
  const uint64_t done = stub.as_int() + 4 * (kBatchStubWords - 1);  // the ebreak
  Status result = ok_status();
  if (auto st = tracee.set_regs(regs); !st) {
    result = st;
  } else if (auto run = tracee.cont_until_signal(SIGTRAP); !run) {
    result = run.error().wrap("injected syscalls");
  } else if (auto after = tracee.regs(); !after) {
    result = after.error();
  } else if (after->pc() != done) {
    result = Error("injected syscalls stopped at the wrong place: " + tracee.state_line());
  } else if (auto r = tracee.read(table, words.data(), words.size() * 8); !r) {
    result = r;
  } else {
    for (size_t i = 0; i < calls.size(); ++i) calls[i].result = static_cast<int64_t>(words[i * kBatchEntryBytes / 8 + 7]);
  }
  Status back = tracee.alive() ? tracee.set_regs(*saved_regs) : ok_status();
  if (!result) return result;
  return back;
}

Result<std::optional<uint64_t>> inject_instruction(Tracee& tracee, RemoteAddr code_addr, uint32_t insn,
                                                   unsigned rd) {
  auto saved_regs = tracee.regs();
  if (!saved_regs) return saved_regs.error();
  uint32_t saved_code[2];
  HWSLICE_TRY(tracee.read(code_addr, saved_code, sizeof saved_code));
  const uint32_t code[2] = {insn, riscv::kEbreak};
  HWSLICE_TRY(tracee.write(code_addr, code, sizeof code));
  auto regs = *saved_regs;
  regs.set_pc(code_addr.as_int());

  Result<std::optional<uint64_t>> result = Error("not run");
  if (auto st = tracee.set_regs(regs); !st) {
    result = st.error();
  } else {
    while (true) {
      if (auto c = tracee.cont(); !c) {
        result = c.error();
        break;
      }
      auto w = tracee.wait();
      if (!w) {
        result = w.error();
        break;
      }
      if (tracee.take_requested_stop(*w)) continue;
      if (w->kind() == WaitStatus::Kind::kSignalStop && w->signal() == SIGILL) {
        result = std::optional<uint64_t>();
        break;
      }
      auto after = tracee.regs();
      if (w->kind() != WaitStatus::Kind::kSignalStop || w->signal() != SIGTRAP || !after ||
          after->pc() != code_addr.as_int() + 4) {
        result = Error("injected instruction " + to_hex(insn) + " stopped at the wrong place: " + tracee.state_line());
        break;
      }
      result = std::optional<uint64_t>(after->x(rd));
      break;
    }
  }
  // The injection's own error wins; a failed put-back replaces a success.
  if (Status p = put_back(tracee, code_addr, saved_code, *saved_regs); result && !p) return p.error();
  return result;
}

}  // namespace hwslice
