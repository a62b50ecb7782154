// Call stacks of a ptrace-stopped tracee through libunwind-ptrace (remote
// unwinding with the tracee's unwind tables). riscv64 Linux only.
//
// Contract: the tracee must be stopped; returns one "0x<pc> symbol+0x<off>"
// line per frame, innermost first, at most `max_frames`. Frames without a
// symbol show the pc alone. Never fails: an unwinding error ends the list
// with "(unwinding stopped: <reason>)".
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace hwslice {

std::vector<std::string> walk_stack(pid_t pid, unsigned max_frames = 32);

}  // namespace hwslice
