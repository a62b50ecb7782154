// Tracee: one ptrace-stopped riscv64 Linux process, owned by the tracer.
//
// Contract:
//  - A Tracee is created stopped (fork_stopped) and is move-only. Its
//    destructor leaves nothing behind: a process the tracer started is
//    killed and reaped; an attached process is detached (continuing).
//  - Every call is made while the tracee is in a ptrace stop; calls that
//    resume it (cont, syscall) must be followed by wait().
//  - Memory is read with process_vm_readv and written through
//    /proc/<pid>/mem, which also writes read-only text (breakpoints).
//  - Errors name the pid and the address involved.
//  - The integer registers are read once per stop: regs() keeps what it read
//    (or what set_regs wrote) until the tracee is resumed or waited for. A
//    register read costs a few microseconds, and a page fault's handling
//    asks for them several times.
#pragma once

#include <signal.h>
#include <sys/ptrace.h>
#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <array>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ptrace/remote_ptr.h"
#include "base/result.h"
#include "riscv/riscv_isa.h"
#include "base/unique_fd.h"
#include "ptrace/wait_status.h"

namespace hwslice {

class Tracee {
 public:
  enum class Ownership { kStarted, kAttached };

  // Forks a child that calls PTRACE_TRACEME, stops itself with SIGSTOP and
  // then runs `body` (which must not return; the child _exits if it does).
  // Returns once the child is in that first stop, with `options` set.
  static Result<Tracee> fork_stopped(const std::function<void()>& body, unsigned options);

  // Starts `argv` (argv[0] searched in PATH) under trace and returns it
  // stopped at the PTRACE_EVENT_EXEC stop of its execve: no instruction of
  // the program has run. Integer registers other than pc, sp and a0 (which
  // the psABI leaves undefined at entry; the riscv kernel leaves the values
  // of the execve caller, here the tracer's own forked child) are zeroed, so
  // nothing of the tracer's state leaks into traces and positions; a0 is set
  // to execve's result, 0, which the kernel writes only after this stop.
  // PTRACE_O_TRACEEXEC is added to `options`. Errors: the program cannot be
  // found or executed (with errno).
  // With `disable_aslr`, the program runs with ADDR_NO_RANDOMIZE, so its
  // addresses (and positions' register values) repeat from run to run.
  static Result<Tracee> spawn(const std::vector<std::string>& argv, unsigned options, bool disable_aslr = false);

  // Attaches to a running process (PTRACE_SEIZE + PTRACE_INTERRUPT) and
  // returns it stopped. The destructor detaches it, leaving it running.
  static Result<Tracee> attach(pid_t pid, unsigned options);

  Ownership ownership() const { return ownership_; }

  // For an attached process: the syscall it was blocked in when attached
  // (from /proc/<pid>/syscall), so a later restart_syscall can be modeled.
  struct BlockedSyscall {
    long nr = -1;
    std::array<uint64_t, 6> args{};
  };
  const std::optional<BlockedSyscall>& blocked_syscall() const { return blocked_; }
  // Detaches now (the process continues); the Tracee becomes inert.
  Status detach(int sig = 0);
  // Kills a started tracee and reaps it.
  void kill();

  Tracee(Tracee&& other) noexcept;
  Tracee& operator=(Tracee&&) = delete;
  Tracee(const Tracee&) = delete;
  ~Tracee();

  pid_t pid() const { return pid_; }
  bool alive() const { return alive_; }

  // Changes whenever the tracee may have run (cont, syscall) or the tracer
  // wrote its memory (write): memory read at one epoch is still the
  // tracee's while the epoch stays the same.
  uint64_t epoch() const { return epoch_; }

  // Resume until the next stop, delivering `sig` (0: none).
  Status cont(int sig = 0);
  Status syscall(int sig = 0);
  // Waits for the next state change; a final exit/kill marks the tracee dead.
  // When `interrupted` is given and set while waiting (a signal handler set
  // it and waitpid returned EINTR), returns an Error with errno EINTR.
  Result<WaitStatus> wait(const std::atomic<bool>* interrupted = nullptr);
  // For an attached (seized) tracee that is running: PTRACE_INTERRUPT and
  // wait for the stop. Returns the signal of a signal stop that came first
  // (to be delivered on detach), or 0.
  Result<int> interrupt_and_wait();
  // cont() + wait(), expecting a signal stop with `sig`; anything else is an
  // error describing what happened and where the tracee's pc was. A stop the
  // tracer requested (request_stop) that arrives first is taken and skipped.
  Status cont_until_signal(int sig);

  // While on, wait() takes a signal-delivery stop of an asynchronous
  // signal (sent to the program, not raised by its instruction; a SIGTRAP
  // and a requested SIGSTOP excepted) by itself: the signal's siginfo goes
  // to held() and the tracee is resumed as it was last resumed (cont or
  // syscall), without it. The owner turns it on while it works in the
  // tracee (injections, re-run calls), where a signal would stop its code,
  // and delivers what it held at a point of its choosing.
  void set_hold_signals(bool on) { hold_ = on; }
  std::vector<siginfo_t> take_held() { return std::exchange(held_, {}); }

  // Makes a running tracee stop soon (a SIGSTOP of the tracer's own; one at
  // a time). The stop is recognized by take_requested_stop and never
  // delivered to the program.
  Status request_stop();
  bool stop_requested() const { return stop_requested_; }
  // True (and the request is consumed) when `status` is that stop.
  bool take_requested_stop(const WaitStatus& status);

  Result<riscv::IntRegisters> regs();
  Status set_regs(const riscv::IntRegisters& regs);
  Result<riscv::FpRegisters> fp_regs();
  Status set_fp_regs(const riscv::FpRegisters& regs);

  Result<siginfo_t> siginfo();
  // At a signal-delivery stop: the siginfo of the signal the next resume
  // delivers (PTRACE_SETSIGINFO; resume with the same signal number).
  Status set_siginfo(const siginfo_t& info);
  Result<__ptrace_syscall_info> syscall_info();

  Status read(RemoteAddr addr, void* buf, size_t len);
  Status write(RemoteAddr addr, const void* buf, size_t len);
  // Reads through /proc/<pid>/mem, as write() writes: also pages the
  // program cannot read now (PROT_NONE while page mode tracks them).
  Status read_forced(RemoteAddr addr, void* buf, size_t len);
  // Reads many ranges, each as read() would, into `out` one after another
  // (out holds the sum of their lengths): process_vm_readv with up to 1024
  // vectors per call instead of a call per range (page mode reads hundreds
  // of pages at an interval boundary). Returns, per range, whether it was
  // read.
  struct Range {
    uint64_t addr;
    size_t len;
  };
  std::vector<bool> read_ranges(const std::vector<Range>& ranges, uint8_t* out);
  template <typename T>
  Result<T> read_value(RemotePtr<T> addr) {
    T v{};
    HWSLICE_TRY(read(addr.template cast<void>(), &v, sizeof v));
    return v;
  }
  template <typename T>
  Status write_value(RemotePtr<T> addr, const T& v) {
    return write(addr.template cast<void>(), &v, sizeof v);
  }

  // One line with the tracee's state for error messages: pid, pc, and the
  // status of its last stop.
  std::string state_line();

 private:
  Tracee(pid_t pid, Ownership ownership) : pid_(pid), ownership_(ownership) {}
  Result<UniqueFd*> mem_fd();

  pid_t pid_;
  Ownership ownership_;
  bool alive_ = true;
  WaitStatus last_{};
  UniqueFd mem_;
  std::optional<BlockedSyscall> blocked_;
  bool stop_requested_ = false;
  uint64_t epoch_ = 0;
  std::optional<riscv::IntRegisters> regs_cache_;  // this stop's registers (regs())
  bool hold_ = false;
  std::vector<siginfo_t> held_;
  bool last_resume_syscall_ = false;  // the last resume was syscall(), not cont()
};

}  // namespace hwslice
