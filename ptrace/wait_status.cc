#include "ptrace/wait_status.h"

#include <signal.h>
#include <sys/ptrace.h>
#include <sys/wait.h>

#include <cstring>

namespace hwslice {

WaitStatus::Kind WaitStatus::kind() const {
  if (WIFEXITED(raw_)) return Kind::kExited;
  if (WIFSIGNALED(raw_)) return Kind::kSignaled;
  int sig = WSTOPSIG(raw_);
  if (sig == (SIGTRAP | 0x80)) return Kind::kSyscallStop;
  if ((raw_ >> 16) == PTRACE_EVENT_STOP) return Kind::kGroupStop;
  if ((raw_ >> 16) != 0) return Kind::kEventStop;
  return Kind::kSignalStop;
}

int WaitStatus::exit_code() const { return WEXITSTATUS(raw_); }

int WaitStatus::signal() const {
  if (WIFSIGNALED(raw_)) return WTERMSIG(raw_);
  if (WIFSTOPPED(raw_)) return WSTOPSIG(raw_) & 0x7f;
  return 0;
}

bool WaitStatus::core_dumped() const { return WIFSIGNALED(raw_) && WCOREDUMP(raw_); }

std::string WaitStatus::describe() const {
  switch (kind()) {
    case Kind::kExited: return "exited with status " + std::to_string(exit_code());
    case Kind::kSignaled:
      return "killed by " + signal_name(signal()) + (core_dumped() ? " (core dumped)" : "");
    case Kind::kSignalStop: return "stopped by " + signal_name(signal());
    case Kind::kSyscallStop: return "syscall stop";
    case Kind::kEventStop: return "ptrace event " + std::to_string(ptrace_event());
    case Kind::kGroupStop: return "group stop by " + signal_name(signal());
  }
  return "unknown wait status";
}

int WaitStatus::shell_status() const {
  if (kind() == Kind::kExited) return exit_code();
  if (kind() == Kind::kSignaled) return 128 + signal();
  return -1;
}

std::string signal_name(int sig) {
  // glibc's first abbreviation for these is the less familiar alias.
  if (sig == SIGIO) return "SIGIO";
  if (sig == SIGABRT) return "SIGABRT";
  if (const char* abbrev = sigabbrev_np(sig)) return std::string("SIG") + abbrev;
  return "signal " + std::to_string(sig);
}

}  // namespace hwslice
