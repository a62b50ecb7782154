// Step-mode slicing (hwslice slice --mode step): cuts a program's execution
// into intervals by stepping every instruction (capture/step_tracer.h) and
// turns each into a SliceSpec holding only the bytes the interval uses
// (capture/used_bytes.h): the instructions it fetches, the bytes it loads
// before writing them, the buffers of the output it echoes, at their
// content at the interval start. Every other byte of a used page is zero in
// the slice; the written-memory digest and the end stack are taken over the
// slice's own view of memory (UsedBytes::end_view), so they match what the
// slice can reproduce.
//
// Where an interval ends: at the first instruction at or after (i + 1) * N
// (interval i) that can carry the end breakpoint (can_end_slice_at), so
// every interval starts within a few instructions of i * N and positions
// are exact on every board (no counter is involved). With SimPoint choices
// (IntervalOptions::wanted) only the chosen intervals are recorded (their
// warm-up included), but every instruction is still stepped. The last
// interval ends at the program's exit call.
//
// Memory the kernel replaces under used bytes (mmap over them, mremap,
// madvise DONTNEED/FREE) is added to that call's writes, so the slice's
// replay reproduces it; the rseq area is left out of the digest (page mode
// does the same).
//
// Contract: as trace_intervals (interval_tracer.h), with the same options;
// the summary's counter is "step" and positions are exact. Refused with an
// Error: a signal delivered to the program (its handler would run unstepped,
// its bytes unrecorded), and everything step mode refuses.
#pragma once

#include <functional>

#include "record/slice_spec.h"
#include "capture/interval_tracer.h"
#include "base/result.h"

namespace hwslice {

Result<IntervalSummary> trace_step_intervals(const IntervalOptions& options,
                                             const std::function<Status(SliceSpec&&)>& on_slice);

}  // namespace hwslice
