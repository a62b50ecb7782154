// WaitStatus: a decoded waitpid() status of a traced process.
//
// Contract: pure decoding of the integer status (portable, unit-tested on
// x86). Distinguishes the ptrace stop kinds the tracer acts on: signal-delivery
// stops, syscall stops (PTRACE_O_TRACESYSGOOD, SIGTRAP|0x80), ptrace event
// stops (status>>16), group stops, exit and death by signal.
#pragma once

#include <string>

namespace hwslice {

class WaitStatus {
 public:
  enum class Kind { kExited, kSignaled, kSignalStop, kSyscallStop, kEventStop, kGroupStop };

  explicit WaitStatus(int raw = 0) : raw_(raw) {}
  int raw() const { return raw_; }
  Kind kind() const;

  // Exit code for kExited.
  int exit_code() const;
  // The signal for kSignaled, kSignalStop and kGroupStop.
  int signal() const;
  // PTRACE_EVENT_* for kEventStop.
  int ptrace_event() const { return (raw_ >> 16) & 0xff; }
  bool core_dumped() const;

  // What a shell would say: "exited with status 1", "killed by SIGSEGV (core
  // dumped)", "stopped by SIGTRAP", "syscall stop", "ptrace event 3".
  std::string describe() const;
  // What a shell's $? would be: the exit code, or 128 + signal.
  int shell_status() const;

 private:
  int raw_;
};

// "SIGSEGV" for 11 etc.; "signal N" for unknown numbers.
std::string signal_name(int sig);

}  // namespace hwslice
