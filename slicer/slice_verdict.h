// Judging one run of a slice against what the trace recorded (hwslice
// verify): it ends by its end mechanism with the recorded registers and
// written-memory digest, writes the recorded stdout/stderr bytes, and
// retires exactly end - start program instructions where the counters are
// user-only and the positions exact. Where the positions count the kernel
// too (page mode without user-only counting), the recorded length bounds
// the slice's kernel-inclusive count from above: the tracer's kernel work
// is in the length, not in the slice, so a count past it ran past its end.
// Exact positions (step mode) count the program alone and give no bound to
// a kernel-inclusive count.
//
// Contract: pure; judge() only reads its arguments.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "slicer/slice_runner.h"

namespace hwslice {

// What a slice should do, from its manifest entry or its own config.
struct SliceExpectation {
  std::string path, label;
  uint64_t start = 0, end = 0;
  bool exact = false;  // positions count exactly the program's instructions
  std::optional<uint64_t> digest;
  std::optional<std::vector<uint8_t>> out, err;
  std::optional<uint64_t> size;
};

struct SliceVerdict {
  SliceExpectation e;
  SliceRun run;
  bool ok = true;
  std::vector<std::string> problems;  // one line each, in the user's terms
  std::string counted;                // "exact", "differs by N", "kernel included, differs by N", ...
};

SliceVerdict judge(const SliceExpectation& e, const SliceRun& r);

}  // namespace hwslice
