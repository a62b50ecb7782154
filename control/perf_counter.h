// PerfCounter: one perf_event counter (instructions, cycles, breakpoints)
// attached to a process, owned as an fd.
//
// Contract: open() returns the kernel's errno unchanged in the Error, because
// the errno *is* the capability answer: EINVAL for exclude_kernel on a PMU
// without mode filtering (no Sscofpmf), EOPNOTSUPP for sampling without an
// overflow interrupt, EACCES/EPERM for perf_event_paranoid.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "base/result.h"
#include "base/unique_fd.h"

namespace hwslice {

struct PerfCounterSpec {
  enum class Event { kInstructions, kCycles, kExecBreakpoint };
  Event event = Event::kInstructions;
  bool user_only = false;        // exclude_kernel + exclude_hv
  uint64_t sample_period = 0;    // >0: overflow every N events
  int overflow_signal = 0;       // with sample_period: signal sent to the task
  uint64_t breakpoint_addr = 0;  // kExecBreakpoint
  bool start_enabled = false;
};

std::string describe(const PerfCounterSpec& spec);

class PerfCounter {
 public:
  // Counts for `pid` on any CPU.
  static Result<PerfCounter> open(pid_t pid, const PerfCounterSpec& spec);

  Status enable();
  Status disable();
  Status reset();
  Result<uint64_t> read();
  int fd() const { return fd_.get(); }

 private:
  explicit PerfCounter(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

}  // namespace hwslice
