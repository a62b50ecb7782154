// IntervalTracer: runs a program under the syscall tracer with page tracking
// and cuts its execution into intervals of about N user instructions; each
// interval becomes a SliceSpec (pages, events, registers at both ends).
//
// Where an interval ends (docs/slices.md, "Where a slice ends"): at its
// first event at or after start + N that a slice finds again by itself, so
// that the slice ends there exactly and once: right after a syscall (the
// slice's runtime replays it), or at a fault of the page tracker's (a
// page's first touch in the interval: the slice maps that page with the
// access it had before, so the same access faults there too). In code that
// makes no syscall and touches no new page none comes: past start + N +
// N/8 the interval ends at a timer stop (SIGSTOP, never delivered; an
// instruction that can carry a breakpoint), a counted end. The last
// interval ends at the program's exit call, or at the fault that kills it.
//
// Signals: the program's own are delivered as untraced, at points a slice
// finds again (record/signal_rules.h): a fault's at its instruction, a sent
// one right after the next syscall or tracker fault (held until then, at
// most 20 ms). The kernel's signal frame and the handler's registers are
// recorded as a signal delivery; rt_sigreturn's frame is opened for it.
// A signal held longer is delivered at a timer stop and its interval is
// marked unsliceable (SliceSpec::unsliceable).
//
// Counter reads (rdtime, rdcycle, rdinstret in the program's code) stop at a
// breakpoint; the tracer runs each one for the program and the value joins
// the interval's replay sequence (capture/counter_sites.h).
//
// Counting: a perf counter of the tracee's user instructions
// (exclude_kernel), paused while the tracer injects syscalls; ecalls the
// program runs twice because of the tracer (a call re-run after its buffers
// were opened, a restarted call) are subtracted. Without user-only counting
// (no Sscofpmf) the counter includes the kernel's instructions and positions
// are marked inexact.
//
// Contract: the program runs to its end (output and exit status as
// untraced); on any error the tracee is killed and nothing is left behind.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "record/slice_spec.h"
#include "base/result.h"
#include "record/trace_record.h"

namespace hwslice {

struct IntervalOptions {
  std::vector<std::string> argv;
  uint64_t interval = 10'000'000;       // N
  // Interval indices to record (SimPoint); empty: all. Intervals in between
  // run without page tracking.
  std::set<uint64_t> wanted;
  uint64_t warmup = 0;                  // with `wanted`: start this many instructions earlier
  bool allow_unknown = false;
  bool no_aslr = true;
  // Pages an interval faulted on stay open this many more intervals
  // (PageTracker::set_keep_open): faster, slices may hold unused pages.
  unsigned keep_pages = 0;
  // A data fault opens the pages of its aligned block of this many pages
  // that the interval before used, with it (PageTracker::set_fault_around).
  unsigned fault_around = 1024;
  // Record what a slice checks at its end: the written-memory digest
  // (SliceSpec::digest, digest_ranges) and the stack above sp
  // (end_stack_len, end_stack_hash). `hwslice trace` writes neither and
  // turns this off: reading and hashing every written page at every
  // boundary was a tenth of its page-tracking time.
  bool end_checks = true;
  const std::atomic<bool>* interrupted = nullptr;
  // Called with the position now and then (progress display).
  std::function<void(uint64_t position, uint64_t slices)> progress;
};

struct IntervalSummary {
  ExitRecord exit;
  uint64_t instructions = 0;  // program instructions counted in total
  bool exact = true;
  uint64_t faults = 0, injections = 0, timer_stops = 0, syscalls = 0;
  uint64_t opened_around = 0;  // pages opened with a faulting page (fault_around)
  uint64_t kept_on = 0;  // keepings renewed because the page changed (--keep-pages)
  uint64_t counter_reads = 0;  // rdtime/rdcycle/rdinstret the program ran (capture/counter_sites.h)
  uint64_t signals = 0;        // signals delivered to the program's handlers
  std::string counter;        // "user", "all" or "none"
  bool realtime = false;      // the tracer ran at real-time priority (trace_intervals)
  uint64_t exact_starts = 0;  // chosen intervals started at exactly their position
  uint64_t stepped = 0;       // instructions stepped to reach them
  uint64_t hops = 0;          // counted hops that stepping took (control/stepper.h)
};

// `on_slice` receives each interval as soon as it ends; an Error from it stops
// tracing (the program is killed).
Result<IntervalSummary> trace_intervals(const IntervalOptions& options,
                                        const std::function<Status(SliceSpec&&)>& on_slice);

}  // namespace hwslice
