#include "ptrace/tracee.h"

#include <elf.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "record/signal_rules.h"
#include "record/trace_record.h"

namespace hwslice {

Result<Tracee> Tracee::fork_stopped(const std::function<void()>& body, unsigned options) {
  pid_t pid = ::fork();
  if (pid < 0) return Error::from_errno("fork");
  if (pid == 0) {
    if (::ptrace(PTRACE_TRACEME, 0, nullptr, nullptr) != 0) ::_exit(126);
    ::raise(SIGSTOP);
    body();
    ::_exit(0);
  }
  Tracee t(pid, Ownership::kStarted);
  auto st = t.wait();
  if (!st) return st.error();
  if (st->kind() != WaitStatus::Kind::kSignalStop || st->signal() != SIGSTOP)
    return Error("child " + std::to_string(pid) + " " + st->describe() + " before its first stop");
  if (::ptrace(PTRACE_SETOPTIONS, pid, nullptr, static_cast<uintptr_t>(options)) != 0)
    return Error::from_errno("PTRACE_SETOPTIONS on pid " + std::to_string(pid));
  return t;
}

Result<Tracee> Tracee::spawn(const std::vector<std::string>& argv, unsigned options, bool disable_aslr) {
  if (argv.empty()) return Error("no program given");
  // A close-on-exec pipe reports a failed execvp's errno to the parent.
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return Error::from_errno("pipe2");
  UniqueFd rd(fds[0]), wr(fds[1]);
  std::vector<char*> cargv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) return Error::from_errno("fork");
  if (pid == 0) {
    rd.reset();
    if (::ptrace(PTRACE_TRACEME, 0, nullptr, nullptr) != 0) ::_exit(126);
    if (disable_aslr) ::personality(ADDR_NO_RANDOMIZE);
    ::raise(SIGSTOP);
    ::execvp(cargv[0], cargv.data());
    int err = errno;
    (void)!::write(wr.get(), &err, sizeof err);
    ::_exit(127);
  }
  wr.reset();
  Tracee t(pid, Ownership::kStarted);
  auto st = t.wait();
  if (!st) return st.error();
  if (st->kind() != WaitStatus::Kind::kSignalStop || st->signal() != SIGSTOP)
    return Error("child " + std::to_string(pid) + " " + st->describe() + " before exec");
  if (::ptrace(PTRACE_SETOPTIONS, pid, nullptr, static_cast<uintptr_t>(options | PTRACE_O_TRACEEXEC)) != 0)
    return Error::from_errno("PTRACE_SETOPTIONS on pid " + std::to_string(pid));
  // Run to the exec event, skipping the child's own syscall stops.
  while (true) {
    HWSLICE_TRY(t.cont());
    auto s = t.wait();
    if (!s) return s.error();
    if (s->kind() == WaitStatus::Kind::kEventStop && s->ptrace_event() == PTRACE_EVENT_EXEC) {
      // The riscv kernel leaves most registers as they were at the execve
      // call, i.e. values from the tracer's own forked child (its stack
      // addresses, under its own ASLR). The psABI defines only sp and a0 at
      // process entry, so the rest are zeroed: traces and positions then do
      // not depend on the tracer's state. a0 is what execve returns, 0,
      // which the kernel writes only after this stop (here it still reads
      // -ENOSYS); it is set now, so that registers read at this stop, and
      // put back after code injected here, are what the program starts with
      // (a0 is rtld_fini for _start: -ENOSYS there crashes the program at
      // exit).
      auto regs = t.regs();
      if (!regs) return regs.error();
      riscv::IntRegisters clean;
      clean.set_pc(regs->pc());
      clean.set_x(riscv::kSp, regs->x(riscv::kSp));
      clean.set_x(riscv::kA0, 0);
      HWSLICE_TRY(t.set_regs(clean));
      return t;
    }
    if (!t.alive()) {
      int err = 0;
      if (::read(rd.get(), &err, sizeof err) == sizeof err)
        return Error::from_errno("cannot execute " + argv[0], err);
      return Error(argv[0] + " " + s->describe() + " before it started");
    }
  }
}

Result<Tracee> Tracee::attach(pid_t pid, unsigned options) {
  if (::ptrace(PTRACE_SEIZE, pid, nullptr, static_cast<uintptr_t>(options)) != 0)
    return Error::from_errno("cannot attach to pid " + std::to_string(pid));
  Tracee t(pid, Ownership::kAttached);
  // Read what it is blocked in before interrupting it: "nr a0 .. a5 sp pc".
  {
    std::ifstream f("/proc/" + std::to_string(pid) + "/syscall");
    BlockedSyscall b;
    std::string word;
    if (f >> b.nr && b.nr >= 0) {
      bool ok = true;
      for (auto& a : b.args) {
        if (!(f >> word)) { ok = false; break; }
        a = std::stoull(word, nullptr, 16);
      }
      if (ok) t.blocked_ = b;
    }
  }
  if (::ptrace(PTRACE_INTERRUPT, pid, nullptr, nullptr) != 0)
    return Error::from_errno("PTRACE_INTERRUPT on pid " + std::to_string(pid));
  // The interrupt stop may come after a signal stop already pending.
  while (true) {
    auto st = t.wait();
    if (!st) return st.error();
    if (!t.alive()) return Error("pid " + std::to_string(pid) + " " + st->describe() + " while attaching");
    if (st->kind() == WaitStatus::Kind::kGroupStop) return t;
    // A signal that arrived first is delivered, not lost.
    HWSLICE_TRY(t.cont(st->kind() == WaitStatus::Kind::kSignalStop ? st->signal() : 0));
  }
}

Result<int> Tracee::interrupt_and_wait() {
  if (::ptrace(PTRACE_INTERRUPT, pid_, nullptr, nullptr) != 0)
    return Error::from_errno("PTRACE_INTERRUPT on pid " + std::to_string(pid_));
  auto st = wait();
  if (!st) return st.error();
  if (st->kind() == WaitStatus::Kind::kSignalStop) return st->signal();
  return 0;
}

Status Tracee::detach(int sig) {
  if (!alive_) return ok_status();
  alive_ = false;
  mem_.reset();
  regs_cache_.reset();
  if (::ptrace(PTRACE_DETACH, pid_, nullptr, static_cast<uintptr_t>(sig)) != 0)
    return Error::from_errno("detaching from pid " + std::to_string(pid_));
  return ok_status();
}

void Tracee::kill() {
  if (!alive_) return;
  regs_cache_.reset();
  ::kill(pid_, SIGKILL);
  int status;
  while (::waitpid(pid_, &status, __WALL) > 0 && !WIFEXITED(status) && !WIFSIGNALED(status)) {
  }
  alive_ = false;
  mem_.reset();
}

Tracee::Tracee(Tracee&& other) noexcept
    : pid_(other.pid_), ownership_(other.ownership_), alive_(other.alive_), last_(other.last_),
      mem_(std::move(other.mem_)), blocked_(other.blocked_), stop_requested_(other.stop_requested_),
      epoch_(other.epoch_), hold_(other.hold_), held_(std::move(other.held_)),
      last_resume_syscall_(other.last_resume_syscall_) {
  other.alive_ = false;
}

Tracee::~Tracee() {
  if (!alive_) return;
  if (ownership_ == Ownership::kStarted) kill();
  else (void)detach();
}

Status Tracee::cont(int sig) {
  regs_cache_.reset();
  ++epoch_;
  if (::ptrace(PTRACE_CONT, pid_, nullptr, static_cast<uintptr_t>(sig)) != 0)
    return Error::from_errno("PTRACE_CONT on pid " + std::to_string(pid_));
  last_resume_syscall_ = false;
  return ok_status();
}

Status Tracee::syscall(int sig) {
  regs_cache_.reset();
  ++epoch_;
  if (::ptrace(PTRACE_SYSCALL, pid_, nullptr, static_cast<uintptr_t>(sig)) != 0)
    return Error::from_errno("PTRACE_SYSCALL on pid " + std::to_string(pid_));
  last_resume_syscall_ = true;
  return ok_status();
}

Result<WaitStatus> Tracee::wait(const std::atomic<bool>* interrupted) {
  regs_cache_.reset();
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(pid_, &status, __WALL);
    if (r < 0 && errno == EINTR && interrupted && interrupted->load())
      return Error("interrupted while waiting for pid " + std::to_string(pid_), EINTR);
  } while (r < 0 && errno == EINTR);
  if (r < 0) return Error::from_errno("waitpid " + std::to_string(pid_));
  last_ = WaitStatus(status);
  if (last_.kind() == WaitStatus::Kind::kExited || last_.kind() == WaitStatus::Kind::kSignaled) {
    alive_ = false;
    mem_.reset();
  }
  if (hold_ && last_.kind() == WaitStatus::Kind::kSignalStop && last_.signal() != SIGTRAP &&
      !(stop_requested_ && last_.signal() == SIGSTOP)) {
    siginfo_t info{};
    if (::ptrace(PTRACE_GETSIGINFO, pid_, nullptr, &info) == 0 && !SignalRules::synchronous(info)) {
      held_.push_back(info);
      HWSLICE_TRY(last_resume_syscall_ ? syscall() : cont());
      return wait(interrupted);
    }
  }
  return last_;
}

Status Tracee::cont_until_signal(int sig) {
  while (true) {
    HWSLICE_TRY(cont());
    auto st = wait();
    if (!st) return st.error();
    if (take_requested_stop(*st)) continue;
    if (st->kind() == WaitStatus::Kind::kSignalStop && st->signal() == sig) return ok_status();
    return Error("expected " + signal_name(sig) + " but tracee " + state_line());
  }
}

Status Tracee::request_stop() {
  if (stop_requested_) return ok_status();
  if (::kill(pid_, SIGSTOP) != 0) return Error::from_errno("stopping pid " + std::to_string(pid_));
  stop_requested_ = true;
  return ok_status();
}

bool Tracee::take_requested_stop(const WaitStatus& status) {
  if (!stop_requested_ || status.kind() != WaitStatus::Kind::kSignalStop || status.signal() != SIGSTOP) return false;
  stop_requested_ = false;
  return true;
}

Result<riscv::IntRegisters> Tracee::regs() {
  if (regs_cache_) return *regs_cache_;
  riscv::IntRegisters r;
  iovec iov{&r.slot, sizeof r.slot};
  if (::ptrace(PTRACE_GETREGSET, pid_, reinterpret_cast<void*>(NT_PRSTATUS), &iov) != 0)
    return Error::from_errno("reading registers of pid " + std::to_string(pid_));
  regs_cache_ = r;
  return r;
}

Status Tracee::set_regs(const riscv::IntRegisters& regs) {
  auto copy = regs;
  iovec iov{&copy.slot, sizeof copy.slot};
  if (::ptrace(PTRACE_SETREGSET, pid_, reinterpret_cast<void*>(NT_PRSTATUS), &iov) != 0) {
    regs_cache_.reset();
    return Error::from_errno("writing registers of pid " + std::to_string(pid_));
  }
  regs_cache_ = regs;
  return ok_status();
}

Result<riscv::FpRegisters> Tracee::fp_regs() {
  riscv::FpRegisters r;
  iovec iov{&r, sizeof r};
  if (::ptrace(PTRACE_GETREGSET, pid_, reinterpret_cast<void*>(NT_PRFPREG), &iov) != 0)
    return Error::from_errno("reading FP registers of pid " + std::to_string(pid_));
  return r;
}

Status Tracee::set_fp_regs(const riscv::FpRegisters& regs) {
  auto copy = regs;
  iovec iov{&copy, sizeof copy};
  if (::ptrace(PTRACE_SETREGSET, pid_, reinterpret_cast<void*>(NT_PRFPREG), &iov) != 0)
    return Error::from_errno("writing FP registers of pid " + std::to_string(pid_));
  return ok_status();
}

Status Tracee::set_siginfo(const siginfo_t& info) {
  if (::ptrace(PTRACE_SETSIGINFO, pid_, nullptr, &info) != 0)
    return Error::from_errno("setting the signal information of pid " + std::to_string(pid_));
  return ok_status();
}

Result<siginfo_t> Tracee::siginfo() {
  siginfo_t si{};
  if (::ptrace(PTRACE_GETSIGINFO, pid_, nullptr, &si) != 0)
    return Error::from_errno("PTRACE_GETSIGINFO on pid " + std::to_string(pid_));
  return si;
}

Result<__ptrace_syscall_info> Tracee::syscall_info() {
  __ptrace_syscall_info info{};
  long n = ::ptrace(PTRACE_GET_SYSCALL_INFO, pid_,
                    reinterpret_cast<void*>(sizeof info), &info);
  if (n <= 0) return Error::from_errno("PTRACE_GET_SYSCALL_INFO on pid " + std::to_string(pid_));
  return info;
}

Status Tracee::read(RemoteAddr addr, void* buf, size_t len) {
  iovec local{buf, len};
  iovec remote{reinterpret_cast<void*>(addr.as_int()), len};
  ssize_t n = ::process_vm_readv(pid_, &local, 1, &remote, 1, 0);
  if (n == static_cast<ssize_t>(len)) return ok_status();
  // process_vm_readv refuses pages without PROT_READ; /proc/<pid>/mem does not.
  auto fd = mem_fd();
  if (!fd) return fd.error();
  n = ::pread((*fd)->get(), buf, len, static_cast<off_t>(addr.as_int()));
  if (n != static_cast<ssize_t>(len))
    return Error::from_errno("reading " + std::to_string(len) + " bytes at " + hex_addr(addr.as_int()) +
                             " in pid " + std::to_string(pid_), n < 0 ? errno : EIO);
  return ok_status();
}

Status Tracee::write(RemoteAddr addr, const void* buf, size_t len) {
  ++epoch_;
  auto fd = mem_fd();
  if (!fd) return fd.error();
  ssize_t n = ::pwrite((*fd)->get(), buf, len, static_cast<off_t>(addr.as_int()));
  if (n != static_cast<ssize_t>(len))
    return Error::from_errno("writing " + std::to_string(len) + " bytes at " + hex_addr(addr.as_int()) +
                             " in pid " + std::to_string(pid_), n < 0 ? errno : EIO);
  return ok_status();
}

Status Tracee::read_forced(RemoteAddr addr, void* buf, size_t len) {
  auto fd = mem_fd();
  if (!fd) return fd.error();
  ssize_t n = ::pread((*fd)->get(), buf, len, static_cast<off_t>(addr.as_int()));
  if (n != static_cast<ssize_t>(len))
    return Error::from_errno("reading " + std::to_string(len) + " bytes at " + hex_addr(addr.as_int()) +
                             " in pid " + std::to_string(pid_), n < 0 ? errno : EIO);
  return ok_status();
}

std::vector<bool> Tracee::read_ranges(const std::vector<Range>& ranges, uint8_t* out) {
  std::vector<bool> ok(ranges.size(), false);
  constexpr size_t kMaxVectors = 1024;  // IOV_MAX
  size_t i = 0, offset = 0;
  while (i < ranges.size()) {
    std::vector<iovec> local, remote;
    size_t bytes = 0;
    for (size_t j = i; j < ranges.size() && local.size() < kMaxVectors; ++j) {
      local.push_back(iovec{out + offset + bytes, ranges[j].len});
      remote.push_back(iovec{reinterpret_cast<void*>(ranges[j].addr), ranges[j].len});
      bytes += ranges[j].len;
    }
    ssize_t n = ::process_vm_readv(pid_, local.data(), local.size(), remote.data(), remote.size(), 0);
    if (n < 0) n = 0;
    // process_vm_readv stops at the first range it cannot read: the ranges
    // before it are complete; that one is read alone (read() falls back to
    // /proc/<pid>/mem), and the batch goes on after it.
    size_t done = 0;
    while (i < ranges.size() && done + ranges[i].len <= static_cast<size_t>(n)) {
      ok[i] = true;
      done += ranges[i].len;
      offset += ranges[i].len;
      ++i;
    }
    if (i < ranges.size() && done < bytes) {
      ok[i] = static_cast<bool>(read(RemoteAddr(ranges[i].addr), out + offset, ranges[i].len));
      offset += ranges[i].len;
      ++i;
    }
  }
  return ok;
}

Result<UniqueFd*> Tracee::mem_fd() {
  if (!mem_.valid()) {
    std::string path = "/proc/" + std::to_string(pid_) + "/mem";
    mem_.reset(::open(path.c_str(), O_RDWR | O_CLOEXEC));
    if (!mem_.valid()) return Error::from_errno("opening " + path);
  }
  return &mem_;
}

std::string Tracee::state_line() {
  std::string s = "pid " + std::to_string(pid_) + " " + last_.describe();
  if (alive_) {
    if (auto r = regs()) s += " at pc " + hex_addr(r->pc());
  }
  return s;
}

}  // namespace hwslice
