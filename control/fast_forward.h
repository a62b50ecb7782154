// FastForward: runs a ptrace-stopped tracee at full speed to shortly before
// a target position (user instructions counted from its first one), then
// leaves it stopped where software stepping can finish the way exactly
// (control/stepper.h). This is how `hwslice trace --at K` reaches far
// positions on boards with an exact user-only instruction counter
// (Sscofpmf: the `k1` profile); without one, positions are stepped all the
// way (docs/positions.md).
//
// How: a user-only perf counter counts the program's instructions. The
// tracee runs under PTRACE_SYSCALL (syscall stops show restarted calls and
// give stops for free) and the tracer stops it with a timer and a SIGSTOP
// after a time ApproachPlan says cannot pass the target. Where the board
// delivers counter-overflow signals (overflow mode), a sampling counter also
// stops the tracee shortly before the target, so far less is left to step;
// overflow is trusted only once one of its signals arrived in this run (the
// virtual board's QEMU opens sampling counters but raises no overflow
// interrupt). During the approach the program runs under SCHED_IDLE on the
// tracer's CPU, and the tracer at real-time priority where allowed, so the
// tracer's wake-up always stops it at once.
//
// Counting: position = instructions since the last known position (the
// start, or rebase()), corrected for what the hardware counts differently
// from the program's instruction stream: a restarted syscall's ecall runs
// twice (counted once), and a board whose counter does not count an ecall
// (the ISA says a trapping instruction does not retire; QEMU counts it)
// gets one added per ecall. Whether it does is measured when the fast-
// forward is created, by running a nop and a getpid ecall in the tracee.
//
// Contract:
//  - create() needs the tracee at a stop where a syscall can be injected
//    (the exec stop), and a user-only counter: an Error without one.
//  - approach() returns with the tracee stopped at a signal stop or a
//    syscall-exit stop (never inside a syscall), no signal of the program's
//    pending for delivery, position() <= target and target - position()
//    at most ApproachPlan::step_distance() (about 10^5; with working
//    overflow, a few skids). Errors: the program exited first; the target
//    was passed (the program ran faster than the plan's ceiling); overflow
//    was required and no overflow signal came.
//  - own_stop() must see every stop the tracee makes after an approach
//    (while stepping, and on the way to its end): a SIGSTOP of the timer or
//    an overflow signal that arrived late is the fast-forward's and must
//    not reach the program.
//  - The tracer's and the tracee's scheduling and CPU affinity are put back
//    after each approach (the tracee's SCHED_IDLE stays where an
//    unprivileged tracer cannot undo it).
#pragma once

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <set>
#include <string>

#include "control/approach_plan.h"
#include "control/perf_counter.h"
#include "base/debug.h"
#include "base/result.h"
#include "ptrace/tracee.h"

namespace hwslice {

class FastForward {
 public:
  // The signal the overflow counter sends (as rr's time slices do: programs
  // rarely use it); recognized by its si_fd, never delivered.
  static constexpr int kOverflowSignal = SIGSTKFLT;

  struct Options {
    bool overflow = false;          // arm overflow signals where they open
    bool require_overflow = false;  // an approach without one is an Error
    // Whether a counter of overflow_probe_spec() opens on this tracee: the
    // caller asks once (trace --at resolves the mode with it).
    bool overflow_opens = false;
  };
  // What the last approach() used and saw.
  struct Stats {
    uint64_t timer_stops = 0, syscall_stops = 0, overflow_stops = 0, restarts = 0;
    bool by_overflow = false;  // an overflow stop ended the approach
  };

  // The counter whose opening says whether overflow signals can be asked
  // for (a user-only sampling counter that never overflows in practice).
  static PerfCounterSpec overflow_probe_spec();

  static Result<std::unique_ptr<FastForward>> create(Tracee& tracee, const Options& options, uint64_t start = 0);

  Status approach(uint64_t target);
  Result<uint64_t> position();
  // The tracee is at `known` now (stepped there): positions continue from it.
  Status rebase(uint64_t known);
  Result<bool> own_stop(const WaitStatus& status);

  const Stats& stats() const { return stats_; }
  bool overflow_open() const { return overflow_ok_; }
  bool overflow_seen() const { return overflow_seen_; }
  bool ecall_counted() const { return ecall_counted_; }
  bool trap_counted() const { return trap_counted_; }

 private:
  FastForward(Tracee& tracee, PerfCounter counter, const Options& options)
      : tracee_(tracee), counter_(std::move(counter)), options_(options) {}
  Status calibrate();
  // Opens the sampling counter to overflow `distance` instructions from now.
  Status arm_overflow(uint64_t distance);
  void disarm_overflow();
  // Resumes the tracee and waits `secs` (0: no timer) for its next stop.
  Result<WaitStatus> run_for(double secs, int signal);
  Result<bool> is_overflow_signal(const WaitStatus& status);
  // Overflow was seen working and the program does not block its signal.
  Result<bool> overflow_usable();

  const bool debug_ = debug_enabled();
  Tracee& tracee_;
  PerfCounter counter_;
  Options options_;
  ApproachPlan plan_;
  std::unique_ptr<PerfCounter> sampler_;
  std::set<int> sampler_fds_;     // every fd an overflow signal can name
  uint64_t armed_at_ = 0;         // position the armed sampler overflows at
  bool overflow_ok_ = false;      // a sampling counter opened
  bool overflow_seen_ = false;    // an overflow signal arrived in this run
  uint64_t skid_ = 0;             // largest overflow skid seen
  bool ecall_counted_ = true;
  bool trap_counted_ = true;
  uint64_t base_raw_ = 0, base_pos_ = 0;  // counter reading at a known position
  uint64_t ecalls_ = 0, restarts_ = 0;    // since the base
  // The last syscall's exit asked for a restart: the pc of its ecall.
  uint64_t restart_pc_ = 0;
  bool in_syscall_ = false;
  Stats stats_;
};

}  // namespace hwslice
