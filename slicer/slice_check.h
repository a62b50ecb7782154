// Making a slice on the board it was traced on, with one check of its end.
//
// A counted end's pass stub (runtime/slice_abi.h, HWS_END_COUNTED) counts
// the passes of end_pc in user mode and traps into the runtime only to
// check. Without a known pass it checks every few passes where the counts
// are exact (the batches sized from how long the passes were so far), or
// every pass with the whole observable state where they are not: tens of
// kernel traps, or one per pass, each of which disturbs what the slice
// measures on a real board.
//
// write_slice_checked runs such a slice once (natively: it is on the board
// where the program was traced) and makes it again with the pass its run
// ended at (SliceOptions::measured_end_pass): a slice re-runs its interval
// deterministically, so every later run ends at that same pass with one
// check, decided by the same rule as the first run. When the first run ran
// past its end (a program whose passes thin out towards the end makes a
// batch overshoot, which the runtime reports), it runs once more with every
// pass checked (HWS_F_EVERY_PASS, always exact) to learn the pass. A run
// that does not end well leaves the slice as made (every pass checked where
// it ran past its end) for verify to report. Every other slice comes back
// as write_slice made it, unrun.
//
// Contract: `scratch` is a path the function may create and remove (the
// slice it runs); nothing is left there. An Error only when the slice
// cannot be made or run at all; how the run went is the runtime's and
// verify's business otherwise.
#pragma once

#include <string>

#include "slicer/slice_writer.h"

namespace hwslice {

struct CheckedSlice {
  SliceFile file;
  unsigned runs = 0;        // times the slice ran here (0 to 2)
  bool every_pass = false;  // a batch ran past its end: its pass was learnt with every pass checked
  uint64_t end_pass = 0;    // the measured pass the slice now ends at (0: not measured)
};

Result<CheckedSlice> write_slice_checked(const SliceSpec& spec, const runtime::Image& rt, const std::string& scratch,
                                         const SliceOptions& options = {});

}  // namespace hwslice
