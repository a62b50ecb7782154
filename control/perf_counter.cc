#include "control/perf_counter.h"

#include <fcntl.h>
#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

namespace hwslice {

std::string describe(const PerfCounterSpec& spec) {
  std::string s;
  switch (spec.event) {
    case PerfCounterSpec::Event::kInstructions: s = "instructions"; break;
    case PerfCounterSpec::Event::kCycles: s = "cycles"; break;
    case PerfCounterSpec::Event::kExecBreakpoint: s = "exec breakpoint"; break;
  }
  if (spec.user_only) s += ":u";
  if (spec.sample_period) s += " (overflow every " + std::to_string(spec.sample_period) + ")";
  return s;
}

Result<PerfCounter> PerfCounter::open(pid_t pid, const PerfCounterSpec& spec) {
  perf_event_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.size = sizeof attr;
  switch (spec.event) {
    case PerfCounterSpec::Event::kInstructions:
      attr.type = PERF_TYPE_HARDWARE;
      attr.config = PERF_COUNT_HW_INSTRUCTIONS;
      break;
    case PerfCounterSpec::Event::kCycles:
      attr.type = PERF_TYPE_HARDWARE;
      attr.config = PERF_COUNT_HW_CPU_CYCLES;
      break;
    case PerfCounterSpec::Event::kExecBreakpoint:
      attr.type = PERF_TYPE_BREAKPOINT;
      attr.bp_type = HW_BREAKPOINT_X;
      attr.bp_addr = spec.breakpoint_addr;
      attr.bp_len = sizeof(long);
      attr.sample_period = 1;
      break;
  }
  attr.disabled = spec.start_enabled ? 0 : 1;
  attr.exclude_kernel = spec.user_only;
  attr.exclude_hv = spec.user_only;
  if (spec.sample_period) {
    attr.sample_period = spec.sample_period;
    attr.wakeup_events = 1;
  }
  int fd = static_cast<int>(::syscall(SYS_perf_event_open, &attr, pid, -1, -1, PERF_FLAG_FD_CLOEXEC));
  if (fd < 0) return Error::from_errno("perf_event_open(" + describe(spec) + ")");
  UniqueFd owned(fd);
  if (spec.sample_period && spec.overflow_signal) {
    f_owner_ex owner{F_OWNER_TID, pid};
    if (::fcntl(fd, F_SETOWN_EX, &owner) != 0 || ::fcntl(fd, F_SETSIG, spec.overflow_signal) != 0 ||
        ::fcntl(fd, F_SETFL, O_ASYNC) != 0)
      return Error::from_errno("arming the overflow signal of " + describe(spec));
  }
  return PerfCounter(std::move(owned));
}

Status PerfCounter::enable() {
  if (::ioctl(fd_.get(), PERF_EVENT_IOC_ENABLE, 0) != 0) return Error::from_errno("enabling counter");
  return ok_status();
}

Status PerfCounter::disable() {
  if (::ioctl(fd_.get(), PERF_EVENT_IOC_DISABLE, 0) != 0) return Error::from_errno("disabling counter");
  return ok_status();
}

Status PerfCounter::reset() {
  if (::ioctl(fd_.get(), PERF_EVENT_IOC_RESET, 0) != 0) return Error::from_errno("resetting counter");
  return ok_status();
}

Result<uint64_t> PerfCounter::read() {
  uint64_t v = 0;
  if (::read(fd_.get(), &v, sizeof v) != static_cast<ssize_t>(sizeof v))
    return Error::from_errno("reading counter");
  return v;
}

}  // namespace hwslice
