// What both slicing tracers (page mode: interval_tracer, step mode:
// step_slicer) take from the stopped tracee to fill in a SliceSpec: the
// output a slice echoes, the written-memory digest and the end stack.
//
// A MemoryView turns bytes read from the traced program into what the slice
// holds at the same place at its end: page mode slices hold whole pages
// (no view), step-mode slices only the bytes they use (UsedBytes::end_view).
//
// Contract: all functions read the tracee through ptrace (/proc/pid/mem) and
// must be called with it stopped; digests follow runtime/slice_abi.h.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

#include "record/slice_spec.h"
#include "base/result.h"
#include "record/trace_record.h"

namespace hwslice {

class Tracee;

using MemoryView = std::function<void(uint64_t addr, uint8_t* bytes, uint64_t len)>;

// The last interval ends at the program's exit call, at its entry stop:
// appends the call (index `index`; the slice ends at it, it is not
// replayed) to spec.syscalls and fixes `regs` captured there to what the
// ecall sees (pc at the ecall; a0 reads -ENOSYS at an entry stop, the
// call's first argument is the value).
void end_at_exit_call(SliceSpec& spec, uint64_t index, long nr, const std::array<uint64_t, 6>& args, uint64_t pc,
                      RegsRecord& regs);

// A write/writev to stdout or stderr that wrote something (the slice
// performs it for real, reading its buffers from its own memory).
bool is_echoed_output(const SyscallRecord& rec);

// For such a call: appends the bytes written to spec.stdout_bytes or
// spec.stderr_bytes and returns the memory the slice reads to perform it
// (the buffers as far as the call wrote, and a writev's iovec array), as
// (address, length) pairs.
Result<std::vector<std::pair<uint64_t, uint64_t>>> capture_echo(Tracee& t, const SyscallRecord& rec, SliceSpec& spec);

// The written-memory digest at the end point over `pages` (sorted): one
// range per page, less the areas the kernel rewrites on its own (`async`,
// rseq); a page that cannot be read (unmapped before the end) is left out.
Result<std::pair<std::vector<AddressRange>, uint64_t>> digest_pages(
    Tracee& t, const std::vector<uint64_t>& pages, const std::vector<std::pair<uint64_t, uint64_t>>& async,
    const MemoryView& view = nullptr);

// How much of the stack above sp a counted end compares (end_stack_len).
inline constexpr uint64_t kEndStackBytes = 4096;
// The stack above sp at the end point as far as the slice's `pages` go
// (sorted, at most `max_len` bytes): sets spec.end_stack_len and
// spec.end_stack_hash.
void record_end_stack(Tracee& t, uint64_t sp, const std::vector<SlicePage>& pages, uint64_t max_len, SliceSpec& spec,
                      const MemoryView& view = nullptr);

}  // namespace hwslice
