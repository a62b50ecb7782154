// SignalRules: what the traced program's signals do and where the tracer
// may let the kernel deliver one, so that a slice can deliver it at the
// same point (runtime/slice_abi.h, "Events").
//
// The dispositions are learned from the program's own calls, seen at their
// syscall stops (rt_sigaction, sigaltstack, execve), starting from the
// defaults of a freshly executed program. A slice finds again exactly three
// kinds of points, and those are where a signal that runs a handler may be
// delivered:
//  - its own instruction, for a synchronous signal (a fault, an illegal
//    instruction, an ebreak: raised by the instruction at the pc, it comes
//    back in the slice at the same instruction);
//  - right after a syscall (the slice's runtime replays it);
//  - right after one of the page tracker's faults (the slice marks that
//    access so that it faults too).
// Any other point (a signal sent while the program computes) is deferred:
// the tracer holds the signal and delivers it at the next such point.
// Asynchronous signals arrive at run-to-run varying points anyway; a short
// delay is one of the executions the program could have had untraced.
//
// Contract: plain data and decisions, no tracee; host-tested
// (signal_rules_test.cc).
#pragma once

#include <signal.h>

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace hwslice {

// The kernel's struct sigaction on riscv64 (asm-generic, no restorer).
struct KernelSigaction {
  uint64_t handler = 0;  // 0 = SIG_DFL, 1 = SIG_IGN, else the handler's address
  uint64_t flags = 0;
  uint64_t mask = 0;
};

// The kernel's stack_t.
struct KernelStack {
  uint64_t sp = 0;
  int32_t flags = 0;
  uint64_t size = 0;
};

class SignalRules {
 public:
  enum class Disposition { kHandler, kIgnore, kTerminate, kStop, kContinue };
  enum class Point {
    kHere,        // deliver now: a synchronous signal at its own instruction, or
                  // a point a slice finds again
    kDefer,       // hold it for the next such point
    kPassThrough  // no handler runs: deliver now, nothing to record
  };

  // The program's calls as the syscall tracer sees them: at the entry of
  // rt_sigaction or sigaltstack, the new setting is read from the program's
  // memory (`read`: address, buffer, size; false when unreadable); at the
  // exit it takes effect when the call succeeded.
  using Reader = std::function<bool(uint64_t addr, void* out, size_t len)>;
  void before_call(long nr, const std::array<uint64_t, 6>& args, const Reader& read);
  void after_call(long nr, int64_t ret);

  // A successful rt_sigaction(sig, act, ...) with the new action (nullopt
  // when act was NULL: nothing changes).
  void on_sigaction(int sig, const std::optional<KernelSigaction>& act);
  // A successful sigaltstack(ss, ...) with the new stack (nullopt: NULL).
  void on_sigaltstack(const std::optional<KernelStack>& ss);
  // A successful execve: handlers are reset to the default, ignored signals
  // stay ignored, the alternate stack is gone.
  void on_exec();
  // After delivering `sig` to its handler: SA_RESETHAND takes effect.
  void delivered(int sig);

  Disposition disposition(int sig) const;
  const KernelSigaction& action(int sig) const { return actions_.at(index(sig)); }

  // The address below which the kernel writes the frame for `sig` when the
  // program's sp is `sp` (the alternate stack's top with SA_ONSTACK when
  // one is set and sp is not on it already).
  uint64_t frame_top(int sig, uint64_t sp) const;

  // Raised by the instruction at the pc (SIGSEGV, SIGBUS, SIGILL, SIGFPE,
  // SIGTRAP with a kernel fault code), not sent by anyone.
  static bool synchronous(const siginfo_t& info);

  // Where to deliver `info` at a stop: `after_event` says the stop is right
  // after a syscall or a tracker fault, with no program instruction since.
  Point where(const siginfo_t& info, bool after_event) const;

  static std::string name(int sig);

 private:
  static size_t index(int sig) { return sig > 0 && sig < 65 ? static_cast<size_t>(sig) : 0; }
  std::array<KernelSigaction, 65> actions_{};
  std::optional<KernelStack> altstack_;
  // Read at a call's entry, applied at its exit.
  int call_sig_ = 0;
  std::optional<KernelSigaction> call_action_;
  std::optional<KernelStack> call_stack_;
};

}  // namespace hwslice
