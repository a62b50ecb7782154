// Making a slice on the board it was traced on, with one check of its end.
//
// A counted end's pass stub (runtime/slice_abi.h, HWS_END_COUNTED) checks
// only every few passes where the counts are exact, the batches sized from
// how long the passes were so far. A program whose passes of the end pc
// thin out towards the end can make a batch run past it, which the runtime
// reports ("ran past its end"): the slice would never end where it should.
// write_slice_checked runs such a slice once (natively: it is on the board
// where the program was traced) and, when it ran past its end, makes it
// again with every pass checked (HWS_F_EVERY_PASS: one trap a pass, always
// exact). Every other slice comes back as write_slice made it, unrun.
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
  bool ran = false;         // the slice ran once
  bool every_pass = false;  // it ran past its end: made again with every pass checked
};

Result<CheckedSlice> write_slice_checked(const SliceSpec& spec, const runtime::Image& rt, const std::string& scratch,
                                         const SliceOptions& options = {});

}  // namespace hwslice
