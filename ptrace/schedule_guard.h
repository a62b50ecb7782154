// ScheduleGuard: while it lives, the tracer's wake-up stops the tracee at
// once, so that a tracee the tracer lets run "for a time" runs no longer
// than that time (timer stops of page mode, counted fast-forward).
//
// What it does, each step only where the system allows it, and undone in
// the destructor:
//  - the tracee runs under SCHED_IDLE: any waking normal task preempts it;
//  - the tracer (the calling thread) takes the lowest SCHED_FIFO priority
//    (root, or an RLIMIT_RTPRIO): without it, a tracer that used up its time
//    slice at a stop can lose the CPU at a tick to the tracee, which then
//    runs a whole time slice (seen on the vf2 profile: 1.5 M instructions
//    past a SimPoint start);
//  - with `pin`, both run on the CPU the tracer is on, so that on a
//    multi-core board the tracee never runs while the tracer is runnable;
//  - the tracer's timer slack is 1 ns (a normal task's is 50 us, which a
//    short wait would overrun by that much).
//
// Contract: never fails (every step is best effort); realtime() says whether
// the tracer got real-time priority. The tracee's SCHED_IDLE is put back
// only where the tracer may (an unprivileged task cannot leave SCHED_IDLE);
// a tracee that died meanwhile is no error.
#pragma once

#include <sched.h>
#include <sys/types.h>

namespace hwslice {

class ScheduleGuard {
 public:
  ScheduleGuard(pid_t tracee, bool pin);
  ~ScheduleGuard();
  ScheduleGuard(const ScheduleGuard&) = delete;
  ScheduleGuard& operator=(const ScheduleGuard&) = delete;

  bool realtime() const { return raised_; }

 private:
  pid_t tracee_;
  int tracer_policy_ = -1, tracee_policy_ = -1;
  sched_param tracer_param_{}, tracee_param_{};
  bool raised_ = false, idled_ = false;
  bool pinned_ = false;
  cpu_set_t tracer_cpus_{}, tracee_cpus_{};
  bool tracee_cpus_saved_ = false;
  int slack_ = -1;
};

}  // namespace hwslice
