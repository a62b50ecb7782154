#include "ptrace/schedule_guard.h"

#include <sys/prctl.h>

namespace hwslice {

ScheduleGuard::ScheduleGuard(pid_t tracee, bool pin) : tracee_(tracee) {
  tracee_policy_ = ::sched_getscheduler(tracee_);
  if (tracee_policy_ >= 0 && ::sched_getparam(tracee_, &tracee_param_) == 0 && tracee_policy_ != SCHED_IDLE) {
    // No privilege is needed to lower a task's policy.
    sched_param idle{};
    idled_ = ::sched_setscheduler(tracee_, SCHED_IDLE, &idle) == 0;
  }
  tracer_policy_ = ::sched_getscheduler(0);
  if (tracer_policy_ >= 0 && ::sched_getparam(0, &tracer_param_) == 0 && tracer_policy_ != SCHED_FIFO &&
      tracer_policy_ != SCHED_RR) {
    sched_param rt{};
    rt.sched_priority = ::sched_get_priority_min(SCHED_FIFO);
    raised_ = ::sched_setscheduler(0, SCHED_FIFO, &rt) == 0;
  }
  if (pin) {
    const int cpu = ::sched_getcpu();
    if (cpu >= 0 && ::sched_getaffinity(0, sizeof tracer_cpus_, &tracer_cpus_) == 0) {
      tracee_cpus_saved_ = ::sched_getaffinity(tracee_, sizeof tracee_cpus_, &tracee_cpus_) == 0;
      cpu_set_t one;
      CPU_ZERO(&one);
      CPU_SET(cpu, &one);
      if (tracee_cpus_saved_ && ::sched_setaffinity(0, sizeof one, &one) == 0) {
        pinned_ = true;
        (void)::sched_setaffinity(tracee_, sizeof one, &one);
      }
    }
  }
  slack_ = ::prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
  if (slack_ >= 0) (void)::prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
}

ScheduleGuard::~ScheduleGuard() {
  if (slack_ >= 0) (void)::prctl(PR_SET_TIMERSLACK, static_cast<unsigned long>(slack_), 0, 0, 0);
  if (pinned_) {
    (void)::sched_setaffinity(tracee_, sizeof tracee_cpus_, &tracee_cpus_);
    (void)::sched_setaffinity(0, sizeof tracer_cpus_, &tracer_cpus_);
  }
  if (raised_) (void)::sched_setscheduler(0, tracer_policy_, &tracer_param_);
  if (idled_) (void)::sched_setscheduler(tracee_, tracee_policy_, &tracee_param_);
}

}  // namespace hwslice
