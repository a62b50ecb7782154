// debug_enabled(): whether HWSLICE_DEBUG is set in the environment, which
// turns on the tracer's diagnostic lines on stderr (faults, re-run syscalls,
// fast-forward hops). Read by each owner once, at construction.
#pragma once

#include <cstdlib>

namespace hwslice {

inline bool debug_enabled() { return std::getenv("HWSLICE_DEBUG") != nullptr; }

}  // namespace hwslice
