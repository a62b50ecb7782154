// Hop plans: where to put breakpoints so that a tracee started at a pc
// stops within a given number of user instructions on every path its code
// can take, while running as far as it safely can in one go. Counted hops
// (control/stepper.h) use them where an exact user-only instruction count
// says afterwards how far the tracee got: one stop per loop iteration
// instead of one per basic block.
//
// The region: the basic blocks (CodeBlock: straight-line instructions and
// the instruction that ends them) reachable from the pc through branches
// and direct jumps, explored depth-first up to kHopBlocks. A stop (a
// breakpoint: the tracee stops before the instruction there runs) is put:
//  - at an instruction that ends a block other than by a branch or jump
//    (ecall, jalr, lr/sc, ebreak): the stepper runs those; where the block
//    ends in bytes that are no instruction (or its scan ran out), at its
//    last instruction;
//  - at the start of a block not explored;
//  - at the head of every loop (an edge back to a block on the search's
//    path): without it the tracee could go round for ever;
//  - on the loop-free rest, taken in topological order with the longest
//    path to each block, at the instruction exactly `budget` along it where
//    a block would reach past it.
// No stop is at the pc itself (it would trap before anything ran): one that
// would be moves to the instruction before it on its path.
//
// Contract: pure (host-tested); `block_at` returns the block starting at an
// address, nullptr for code that may change (a writable mapping), which
// makes the whole plan nullopt, or an Error where there is no code (not
// executable, not readable): a path there ends without a stop, since the
// CPU faults before it runs anything there (for the pc itself the Error is
// the plan's). nullopt too where the pc's own instruction
// is a control transfer or ends the region (the stepper performs those:
// a loop's hop ends at its bottom branch, the stepper performs the branch,
// and the next hop starts at the loop's head), or the code jumps to itself. A plan's
// `longest` is the most instructions any path runs before its first stop
// (<= budget, >= 1): a hop that counted more than that is not exact.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "base/result.h"
#include "riscv/riscv_decoder.h"

namespace hwslice {

// A straight-line run from an address: its instructions' addresses and the
// instruction that ends it (a control transfer, ecall, lr, ...; length 0
// where the scan ran out of bytes or found no instruction).
struct CodeBlock {
  std::vector<uint64_t> addrs;
  uint64_t end = 0;  // address after the last of addrs: that of `last`
  riscv::Instruction last;
};

struct HopPlan {
  std::vector<uint64_t> stops;  // sorted, unique
  uint64_t longest = 0;
};

// Blocks one plan explores at most (planning costs the tracer's time, which
// on a board is the program's time too).
inline constexpr size_t kHopBlocks = 128;

Result<std::optional<HopPlan>> plan_hop(uint64_t pc, uint64_t budget,
                                        const std::function<Result<const CodeBlock*>(uint64_t)>& block_at);

}  // namespace hwslice
