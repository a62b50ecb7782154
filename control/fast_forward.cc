#include "control/fast_forward.h"

#include <signal.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "control/counter_calibration.h"
#include "riscv/riscv_isa.h"
#include "ptrace/schedule_guard.h"
#include "ptrace/syscall_injector.h"

namespace hwslice {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// A syscall exit with one of these is run again by the kernel (the program
// never sees it): -ERESTARTSYS, -ERESTARTNOINTR, -ERESTARTNOHAND,
// -ERESTART_RESTARTBLOCK (re-run as restart_syscall).
bool restarts(int64_t ret) { return ret == -512 || ret == -513 || ret == -514 || ret == -516; }

// The overflow stop is aimed this many instructions, or 4 x the largest skid
// seen, before the target.
constexpr uint64_t kOverflowMargin = 4096;

// SIGCHLD blocked in the calling thread while it lives (the wait for a stop
// is a sigtimedwait on it).
struct BlockChld {
  sigset_t old;
  BlockChld() {
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    pthread_sigmask(SIG_BLOCK, &chld, &old);
  }
  ~BlockChld() { pthread_sigmask(SIG_SETMASK, &old, nullptr); }
};

}  // namespace

Result<std::unique_ptr<FastForward>> FastForward::create(Tracee& tracee, const Options& options, uint64_t start) {
  PerfCounterSpec spec;
  spec.user_only = true;
  spec.start_enabled = true;
  auto counter = PerfCounter::open(tracee.pid(), spec);
  if (!counter)
    return counter.error().wrap("a counted fast-forward needs an exact user-only instruction counter (Sscofpmf)");
  std::unique_ptr<FastForward> ff(new FastForward(tracee, std::move(*counter), options));
  if (options.overflow) {
    // Whether sampling opens at all (EOPNOTSUPP without an overflow
    // interrupt); the real arming comes with each approach.
    ff->overflow_ok_ = options.overflow_opens;
    if (!ff->overflow_ok_ && options.require_overflow)
      return Error("--position-mode overflow needs counter-overflow signals: a sampling counter with a signal does "
                   "not open on this board");
  }
  HWSLICE_TRY(ff->calibrate());
  HWSLICE_TRY(ff->rebase(start));
  return ff;
}

PerfCounterSpec FastForward::overflow_probe_spec() {
  PerfCounterSpec s;
  s.user_only = true;
  s.sample_period = 1ull << 40;
  s.overflow_signal = kOverflowSignal;
  return s;
}

Status FastForward::calibrate() {
  // At the pc (code and registers are put back): control/counter_calibration.h.
  auto regs = tracee_.regs();
  if (!regs) return regs.error();
  auto c = calibrate_user_counter(tracee_, counter_, RemoteAddr(regs->pc()));
  if (!c) return c.error();
  ecall_counted_ = c->ecall_counted;
  trap_counted_ = c->trap_counted;
  return ok_status();
}

Result<uint64_t> FastForward::position() {
  auto raw = counter_.read();
  if (!raw) return raw.error();
  const uint64_t counted = base_pos_ + (*raw - base_raw_) + (ecall_counted_ ? 0 : ecalls_);
  return counted > restarts_ ? counted - restarts_ : 0;
}

Status FastForward::rebase(uint64_t known) {
  auto raw = counter_.read();
  if (!raw) return raw.error();
  base_raw_ = *raw;
  base_pos_ = known;
  ecalls_ = restarts_ = 0;
  return ok_status();
}

Status FastForward::arm_overflow(uint64_t distance) {
  disarm_overflow();
  PerfCounterSpec s;
  s.user_only = true;
  s.sample_period = std::max<uint64_t>(distance, 1);
  s.overflow_signal = kOverflowSignal;
  s.start_enabled = true;
  auto c = PerfCounter::open(tracee_.pid(), s);
  if (!c) return c.error().wrap("arming the overflow counter");
  auto pos = position();
  if (!pos) return pos.error();
  armed_at_ = *pos + distance;
  sampler_fds_.insert(c->fd());
  sampler_ = std::make_unique<PerfCounter>(std::move(*c));
  return ok_status();
}

void FastForward::disarm_overflow() {
  // The fd stays known: a signal it queued may still arrive.
  if (sampler_) (void)sampler_->disable();
  sampler_.reset();
  armed_at_ = 0;
}

Result<bool> FastForward::is_overflow_signal(const WaitStatus& status) {
  if (status.kind() != WaitStatus::Kind::kSignalStop || status.signal() != kOverflowSignal) return false;
  auto info = tracee_.siginfo();
  if (!info) return info.error();
  // Sent by the kernel for a perf fd of ours (a kill() has si_code <= 0).
  return info->si_code > 0 && sampler_fds_.count(info->si_fd) > 0;
}

Result<bool> FastForward::own_stop(const WaitStatus& status) {
  if (tracee_.take_requested_stop(status)) return true;
  return is_overflow_signal(status);
}

Result<bool> FastForward::overflow_usable() {
  if (!overflow_seen_) return false;
  // A blocked signal waits until the program unblocks it: no stop at the
  // overflow then. (Every change of the mask is a syscall, so it is seen at
  // the next stop.)
  uint64_t mask = 0;
  if (::ptrace(PTRACE_GETSIGMASK, tracee_.pid(), sizeof mask, &mask) != 0)
    return Error::from_errno("reading the signal mask of pid " + std::to_string(tracee_.pid()));
  return (mask & (1ull << (kOverflowSignal - 1))) == 0;
}

Result<WaitStatus> FastForward::run_for(double secs, int signal) {
  HWSLICE_TRY(tracee_.syscall(signal));
  const auto start = Clock::now();
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  while (true) {
    siginfo_t info{};
    if (::waitid(P_PID, static_cast<id_t>(tracee_.pid()), &info, WEXITED | WSTOPPED | WNOHANG | WNOWAIT | __WALL) ==
            0 &&
        info.si_pid != 0)
      break;
    if (secs <= 0 || tracee_.stop_requested()) {
      timespec ts{0, 20'000'000};
      (void)::sigtimedwait(&chld, nullptr, &ts);
      continue;
    }
    const double left = secs - seconds_since(start);
    if (left > 0) {
      timespec ts{static_cast<time_t>(left), static_cast<long>((left - static_cast<double>(static_cast<time_t>(left))) * 1e9)};
      if (::sigtimedwait(&chld, nullptr, &ts) >= 0 || errno != EAGAIN) continue;
    }
    const double took = seconds_since(start);
    plan_.observe_latency(secs, took);
    if (debug_)
      std::fprintf(stderr, "hwslice: debug: timer: asked %.6f s, took %.6f s, latency now %.6f s\n", secs, took,
                   plan_.latency());
    HWSLICE_TRY(tracee_.request_stop());
  }
  return tracee_.wait();
}

Status FastForward::approach(uint64_t target) {
  BlockChld block;
  ScheduleGuard sched(tracee_.pid(), true);
  stats_ = Stats{};
  int pending = 0;  // the program's own signal, delivered with the next resume
  while (true) {
    auto pos = position();
    if (!pos) return pos.error();
    if (*pos > target)
      return Error("position " + std::to_string(target) + " was passed: the program was at " + std::to_string(*pos) +
                   " when it stopped (it ran faster than the " + std::to_string(static_cast<uint64_t>(plan_.ceiling())) +
                   " instructions a second the fast-forward assumed); --position-mode block steps all the way");
    const uint64_t left = target - *pos;
    // Stepping can start here: not inside a syscall (nor at the exit of one
    // the kernel will run again) and no signal of the program's to deliver.
    const bool steppable = !in_syscall_ && restart_pc_ == 0 && pending == 0;
    double secs = 0;
    if (in_syscall_) {
      // From a syscall's entry to its exit no user instruction runs.
    } else if (!steppable) {
      // A signal of the program's to deliver (its handler runs), or a call
      // to restart: a short guarded run to the next stop.
      secs = std::max(plan_.wait(left), ApproachPlan::kMinWait);
    } else {
      if (left == 0) break;
      const uint64_t margin = std::max(kOverflowMargin, 4 * skid_);
      auto usable = overflow_usable();
      if (!usable) return usable.error();
      if (left <= plan_.step_distance()) {
        if (!(*usable && left > 2 * margin)) {
          if (options_.require_overflow && !overflow_seen_ && stats_.timer_stops + stats_.syscall_stops > 0)
            return Error("--position-mode overflow: no counter-overflow signal arrived (this board raises no overflow "
                         "interrupt: hwslice doctor, perf.overflow)");
          break;
        }
        // Overflow works and the program lets its signal through: aim it
        // just short of the target, with no timer (none could be short
        // enough). A call that changes the signal mask stops first.
        if (armed_at_ == 0 || armed_at_ > target - margin) HWSLICE_TRY(arm_overflow(left - margin));
      } else {
        secs = plan_.wait(left);
        // Not yet seen working: aim a signal half-way, where the timer
        // would be at the ceiling's rate; seen working, at the target's
        // margin.
        if (overflow_ok_ && armed_at_ == 0) {
          const uint64_t d = overflow_seen_ ? left - margin : (left - plan_.step_distance()) / 2;
          if (d > 0) HWSLICE_TRY(arm_overflow(d));
        }
      }
    }
    if (debug_)
      std::fprintf(stderr, "hwslice: debug: approach %llu: at %llu, wait %.6f s, entry %d, restart %d, signal %d, overflow at %llu\n",
                   static_cast<unsigned long long>(target), static_cast<unsigned long long>(*pos), secs, in_syscall_,
                   restart_pc_ != 0, pending, static_cast<unsigned long long>(armed_at_));
    const auto resumed = Clock::now();
    auto st = run_for(secs, pending);
    if (!st) return st.error();
    pending = 0;
    if (!tracee_.alive())
      return Error("the program " + st->describe() + " after " + std::to_string(*pos) +
                   " instructions, before position " + std::to_string(target));
    auto now = position();
    if (!now) return now.error();
    if (*now > *pos) plan_.observe(*now - *pos, seconds_since(resumed));
    stats_.by_overflow = false;
    switch (st->kind()) {
      case WaitStatus::Kind::kSyscallStop: {
        auto info = tracee_.syscall_info();
        if (!info) return info.error();
        ++stats_.syscall_stops;
        if (info->op == PTRACE_SYSCALL_INFO_ENTRY) {
          in_syscall_ = true;
          ++ecalls_;
          // The same ecall again after an exit that asked for a restart.
          if (restart_pc_ != 0 && info->instruction_pointer == restart_pc_) {
            ++restarts_;
            ++stats_.restarts;
          }
          restart_pc_ = 0;
        } else if (info->op == PTRACE_SYSCALL_INFO_EXIT) {
          in_syscall_ = false;
          if (restarts(info->exit.rval)) restart_pc_ = info->instruction_pointer;
        }
        break;
      }
      case WaitStatus::Kind::kSignalStop: {
        if (tracee_.take_requested_stop(*st)) {
          ++stats_.timer_stops;
          break;
        }
        auto overflow = is_overflow_signal(*st);
        if (!overflow) return overflow.error();
        if (*overflow) {
          ++stats_.overflow_stops;
          if (armed_at_ != 0) {
            overflow_seen_ = true;
            if (*now > armed_at_) skid_ = std::max(skid_, *now - armed_at_);
            stats_.by_overflow = true;
          }
          disarm_overflow();
          break;
        }
        pending = st->signal();
        break;
      }
      default:
        break;  // event and group stops: resume
    }
    // A timer or syscall stop past the overflow point (the signal is still to
    // come, or never comes): aim again from here.
    if (armed_at_ != 0 && *now >= armed_at_) disarm_overflow();
  }
  disarm_overflow();
  return ok_status();
}

}  // namespace hwslice
