// SyscallTracer: runs a traced program to its end, intercepting every
// syscall (PTRACE_SYSCALL + PTRACE_GET_SYSCALL_INFO), and hands each
// completed call with the exact bytes the kernel wrote to a TraceSink.
//
// Contract:
//  - The tracee must be stopped at its exec event (Tracee::spawn) or at an
//    attach stop (Tracee::attach); options must include TRACESYSGOOD.
//  - The program's own signals are passed through unchanged; its exit status
//    or fatal signal is returned.
//  - A syscall whose memory effects are not modeled is an Error naming it
//    (the tracee is killed if we started it, detached if attached), unless
//    allow_unknown, which records a note instead.
//  - A clone with CLONE_THREAD stops tracing with an error before the thread
//    exists; fork/vfork children are not followed (a note says so).
//  - interrupted() (e.g. set by SIGINT) is polled after every stop: an
//    attached tracee is detached and keeps running; a started one is killed.
#pragma once

#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "record/syscall_model.h"
#include "record/trace_record.h"
#include "ptrace/tracee.h"

namespace hwslice {

class TraceSink {
 public:
  virtual ~TraceSink() = default;
  virtual void on_record(const TraceRecord& record) = 0;
  // Called at syscall entry with the decoded arguments (for live display);
  // default: nothing.
  virtual void on_entry(long /*nr*/, const std::array<uint64_t, 6>& /*args*/) {}
  // Called at the exit stop, before the written memory is read (so a sink
  // can time the call itself, without the recording).
  virtual void on_exit_stop() {}
};

// Receives the call stack at each syscall entry (--stack); lines are
// "pc symbol+offset".
using StackWalker = std::function<std::vector<std::string>(pid_t)>;

// Extension points for tracers built on the syscall loop (page tracking,
// intervals). Every hook runs while the tracee is stopped and may use it
// (read memory, inject syscalls).
class SyscallHooks {
 public:
  virtual ~SyscallHooks() = default;
  // At a syscall-entry stop, after the call was checked, before it runs.
  virtual Status before_call(long /*nr*/, const std::array<uint64_t, 6>& /*args*/, uint64_t /*pc*/) { return ok_status(); }
  // A completed call with its writes, before the sink sees it; returning
  // false drops it (a call the kernel restarts transparently).
  virtual Result<bool> after_call(SyscallRecord& /*rec*/) { return true; }
  // A signal-delivery stop; returning true means the signal was the
  // tracer's own (or handled) and is not delivered.
  virtual Result<bool> on_signal(int /*sig*/) { return false; }
  // Called just before the tracee is resumed; may decide to stop tracing by
  // returning an Error.
  virtual Status before_resume() { return ok_status(); }
  // A signal to resume with when the stop has none of the program's to
  // deliver (at a syscall stop the kernel then sends it to the tracee, which
  // stops for it before running an instruction); 0: none.
  virtual int resume_signal() { return 0; }
  // Waits for the next stop instead of a plain blocking wait (a hook may
  // arrange a stop of its own after a timeout).
  virtual Result<WaitStatus> wait_stop(Tracee& tracee, const std::atomic<bool>* interrupted) {
    return tracee.wait(interrupted);
  }
};

struct SyscallTracerOptions {
  SyscallHooks* hooks = nullptr;
  bool allow_unknown = false;
  StackWalker stack;  // empty: no stacks
  std::function<void(const std::vector<std::string>&)> on_stack;
  const std::atomic<bool>* interrupted = nullptr;
};

// All registers of a stopped tracee as a regs record (`at` says why).
Result<RegsRecord> capture_regs(Tracee& tracee, std::string at);
// How a process ended, from its final wait status.
ExitRecord exit_record(const WaitStatus& status);

class SyscallTracer {
 public:
  SyscallTracer(Tracee& tracee, TraceSink& sink, SyscallTracerOptions options)
      : tracee_(tracee), sink_(sink), options_(std::move(options)) {}

  // Runs to the end; returns how the program ended.
  Result<ExitRecord> run();

 private:
  // Handles one syscall stop; sets `stop` when tracing must end.
  Status on_syscall_stop();
  Status on_entry(const __ptrace_syscall_info& info);
  Status on_exit(const __ptrace_syscall_info& info);
  Status emit_start_records(const char* why);
  Status emit_end_notes();
  Status emit_regs(const char* why);

  Tracee& tracee_;
  TraceSink& sink_;
  SyscallTracerOptions options_;
  uint64_t index_ = 0;
  bool in_call_ = false;      // between an entry stop and its exit stop
  bool skip_exit_ = false;    // the next exit stop belongs to a call not recorded (execve)
  long nr_ = -1;
  SyscallArgs args_{};
  uint64_t pc_ = 0;
  EntryState entry_;
  bool entry_ok_ = true;      // capture_entry succeeded for the current call
  // restart_syscall runs the call an interruption stopped: its memory
  // effects are that call's. model_nr_/model_args_ are what the model sees.
  long model_nr_ = -1;
  SyscallArgs model_args_{};
  std::optional<std::pair<long, SyscallArgs>> interrupted_;
};

}  // namespace hwslice
