// Running a slice and reading what it reports (hwslice verify / run).
//
// A slice is run as a child process (optionally through a runner such as
// qemu-riscv64) with HWSLICE_STATS_FD pointing at a pipe; its stdout and
// stderr are captured. read_slice_config reads the config block back from a
// slice file (to check it against a manifest without running it).
//
// Contract: run_slice never throws; a slice that cannot be started is an
// Error; anything the slice itself does (crash, bad stats) is reported in
// SliceRun for the caller to judge.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/slice_abi.h"
#include "base/result.h"

namespace hwslice {

struct SliceStats {
  bool present = false;       // the slice wrote its JSON object
  std::string name, status, end, counters, detail, digest;
  uint64_t hits = 0, instructions = 0, cycles = 0, overhead_instructions = 0, overhead_cycles = 0,
           calls_replayed = 0;
  uint64_t traps = 0, end_traps = 0;  // kernel traps of the runtime's, and of those the end's
  uint64_t region_ns = 0;             // guest time from the counters' start to the end
  uint64_t end_pass = 0;              // a counted end reached: its pass of end_pc since the end was armed
  bool regs_match = false, digest_match = false;
};

struct SliceRun {
  int exit_code = -1;         // -1 when killed by a signal
  int signal = 0;
  bool timed_out = false;     // killed (SIGKILL) after the timeout
  std::vector<uint8_t> out, err;
  SliceStats stats;
};

// A --runner option ("qemu-riscv64 -L /x") as words; empty for none.
std::vector<std::string> runner_words(const std::string& runner);

// Parses the slice's JSON stats line (keys in runtime/slice_abi.h).
Result<SliceStats> parse_slice_stats(const std::string& text);

// `runner`: words put before the slice path (e.g. {"qemu-riscv64"}), may be
// empty. `quiet` sets HWSLICE_QUIET=1; otherwise the slice's stderr report
// is both captured and passed through to our stderr. A slice still running
// after `timeout_seconds` (> 0) is killed with SIGKILL and reported
// timed_out: a slice that misses its end in a loop without syscalls would
// otherwise never stop.
Result<SliceRun> run_slice(const std::string& path, const std::vector<std::string>& runner, bool quiet,
                           double timeout_seconds = 0);

// The config block of a slice file.
Result<hws_config> read_slice_config(const std::string& path);

}  // namespace hwslice
